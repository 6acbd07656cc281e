//! Per-address budgets in front of the webhooks: one for requests, a much smaller one for failed
//! authentications. Each admits its whole budget at once and refills evenly over the minute.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actix_web::dev::ServiceRequest;
use governor::clock::{Clock, DefaultClock, QuantaInstant, Reference};
use governor::{DefaultKeyedRateLimiter, NotUntil, Quota, RateLimiter};

/// How often the limiters forget addresses whose budgets are full again.
const FORGET_EVERY_CHECKS: u64 = 4096;

pub struct ClientLimits {
    requests: Option<DefaultKeyedRateLimiter<IpAddr>>,
    auth_failures: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Addresses that spent their failed-auth budget, and when it has a cell again. Governor
    /// cannot look at a budget without spending it, so the exhausted ones are remembered here.
    locked_out: Mutex<HashMap<IpAddr, QuantaInstant>>,
    checks: std::sync::atomic::AtomicU64,
    /// Governor's own clock, made once: the lock-outs are compared on its time line.
    clock: DefaultClock,
    trust_forwarded_for: bool,
}

/// Past a budget: how long until the address may try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl ClientLimits {
    /// Budgets per minute; 0 turns a budget off.
    pub fn new(requests_per_minute: u32, auth_failures_per_minute: u32, trust_forwarded_for: bool) -> Self {
        let limiter = |per_minute| NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)));
        Self {
            requests: limiter(requests_per_minute),
            auth_failures: limiter(auth_failures_per_minute),
            locked_out: Mutex::new(HashMap::new()),
            checks: Default::default(),
            clock: DefaultClock::default(),
            trust_forwarded_for,
        }
    }

    /// The caller's address: the peer, or behind a trusted reverse proxy the last
    /// `X-Forwarded-For` entry, the one that proxy appended (earlier entries are the client's
    /// own claims).
    pub fn client_address(&self, request: &ServiceRequest) -> Option<IpAddr> {
        let forwarded = self.trust_forwarded_for.then(|| {
            let header = request.headers().get_all("x-forwarded-for").last()?.to_str().ok()?;
            header.rsplit(',').next()?.trim().parse().ok()
        });
        forwarded.flatten().or_else(|| request.peer_addr().map(|peer| peer.ip()))
    }

    /// Spends one request from the address's budget; refuses an address that is over either
    /// budget, even before looking at its secret.
    pub fn admit(&self, address: IpAddr) -> Result<(), RetryAfter> {
        self.forget_idle_addresses();
        let now = self.clock.now();
        let mut locked_out = self.locked_out.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(until) = locked_out.get(&address) {
            if *until > now {
                return Err(RetryAfter(until.duration_since(now).into()));
            }
            locked_out.remove(&address);
        }
        drop(locked_out);
        match &self.requests {
            Some(limiter) => limiter.check_key(&address).map_err(|not_until| self.retry_after(&not_until)),
            None => Ok(()),
        }
    }

    fn retry_after(&self, not_until: &NotUntil<QuantaInstant>) -> RetryAfter {
        RetryAfter(not_until.wait_time_from(self.clock.now()))
    }

    /// Counts a failed authentication; past the budget the address is locked out until the
    /// budget refills by one.
    pub fn record_auth_failure(&self, address: IpAddr) -> Result<(), RetryAfter> {
        let Some(limiter) = &self.auth_failures else { return Ok(()) };
        limiter.check_key(&address).map_err(|not_until| {
            self.locked_out
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(address, not_until.earliest_possible());
            self.retry_after(&not_until)
        })
    }

    fn forget_idle_addresses(&self) {
        let checks = self.checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if checks % FORGET_EVERY_CHECKS == FORGET_EVERY_CHECKS - 1 {
            for limiter in [&self.requests, &self.auth_failures].into_iter().flatten() {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
            let now = self.clock.now();
            self.locked_out.lock().unwrap_or_else(PoisonError::into_inner).retain(|_, until| *until > now);
        }
    }
}

impl RetryAfter {
    /// Whole seconds for the `Retry-After` header, never 0.
    pub fn seconds(self) -> u64 {
        self.0.as_secs_f64().ceil().max(1.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn admits_the_whole_budget_at_once_then_refuses_per_address() {
        let limits = ClientLimits::new(3, 0, false);
        assert!((0..3).all(|_| limits.admit(A).is_ok()));
        let refused = limits.admit(A).unwrap_err();
        assert!(refused.0 <= Duration::from_secs(20) && refused.seconds() >= 1, "{refused:?}");
        assert!(limits.admit(B).is_ok());
    }

    #[test]
    fn an_address_over_its_failure_budget_is_locked_out() {
        let limits = ClientLimits::new(0, 2, false);
        assert_eq!(limits.record_auth_failure(A), Ok(()));
        assert_eq!(limits.record_auth_failure(A), Ok(()));
        let refused = limits.record_auth_failure(A).unwrap_err();
        assert!(refused.seconds() <= 30);
        assert!(limits.admit(A).is_err());
        assert!(limits.admit(B).is_ok());
    }

    #[test]
    fn zero_turns_a_budget_off() {
        let limits = ClientLimits::new(0, 0, false);
        assert!((0..1000).all(|_| limits.admit(A).is_ok() && limits.record_auth_failure(A).is_ok()));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(5001)).seconds(), 6);
        assert_eq!(RetryAfter(Duration::ZERO).seconds(), 1);
    }

    #[test]
    fn trusts_the_last_forwarded_entry_only_when_configured() {
        let request = || {
            TestRequest::default()
                .peer_addr("198.51.100.7:5000".parse().unwrap())
                .insert_header(("X-Forwarded-For", "203.0.113.9, 192.0.2.44"))
                .to_srv_request()
        };
        let trusting = ClientLimits::new(1, 1, true);
        assert_eq!(trusting.client_address(&request()), Some("192.0.2.44".parse().unwrap()));
        let direct = ClientLimits::new(1, 1, false);
        assert_eq!(direct.client_address(&request()), Some("198.51.100.7".parse().unwrap()));
        let garbage = TestRequest::default()
            .peer_addr("198.51.100.7:5000".parse().unwrap())
            .insert_header(("X-Forwarded-For", "not-an-address"))
            .to_srv_request();
        assert_eq!(trusting.client_address(&garbage), Some("198.51.100.7".parse().unwrap()));
    }
}
