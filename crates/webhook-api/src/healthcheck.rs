//! `webhook-api healthcheck`: GETs this service's own `/health` and exits 0 when it answers
//! 200, else 1. For container health checks in images without curl or a shell.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use crate::configuration::Settings;

/// The argument that selects this mode.
pub const COMMAND: &str = "healthcheck";

/// How long connecting, sending and reading may each take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Checks the service the settings describe, printing why it failed.
pub fn run() -> ExitCode {
    let outcome = Settings::load()
        .map_err(|error| format!("configuration error: {error}"))
        .and_then(|settings| address(&settings.server.host, settings.server.port))
        .and_then(|address| check(address, TIMEOUT));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("unhealthy: {reason}");
            ExitCode::FAILURE
        }
    }
}

/// Where to reach the server: a wildcard listen address is reached through loopback.
pub fn address(host: &str, port: u16) -> Result<SocketAddr, String> {
    match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_unspecified() => {
            let loopback = if ip.is_ipv4() { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { IpAddr::V6(Ipv6Addr::LOCALHOST) };
            Ok(SocketAddr::new(loopback, port))
        }
        Ok(ip) => Ok(SocketAddr::new(ip, port)),
        Err(_) => (host, port)
            .to_socket_addrs()
            .map_err(|error| format!("cannot resolve {host}: {error}"))?
            .next()
            .ok_or_else(|| format!("{host} has no address")),
    }
}

/// One `GET /health`; Ok when the status line says 200.
pub fn check(address: SocketAddr, timeout: Duration) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(&address, timeout)
        .map_err(|error| format!("cannot connect to {address}: {error}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|error| format!("cannot set timeouts: {error}"))?;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|error| format!("cannot send the request: {error}"))?;
    let mut status_line = String::new();
    BufReader::new(stream).read_line(&mut status_line).map_err(|error| format!("no answer: {error}"))?;
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        _ => Err(format!("/health answered {:?}", status_line.trim_end())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    /// A one-shot server answering `status_line` to whatever it is sent.
    fn answer_once(status_line: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0; 1024];
            let _ = stream.read(&mut request).unwrap();
            stream.write_all(format!("{status_line}\r\nContent-Length: 0\r\n\r\n").as_bytes()).unwrap();
        });
        address
    }

    #[test]
    fn passes_on_200_only() {
        assert_eq!(check(answer_once("HTTP/1.1 200 OK"), TIMEOUT), Ok(()));
        let failed = check(answer_once("HTTP/1.1 503 Service Unavailable"), TIMEOUT).unwrap_err();
        assert!(failed.contains("503"), "{failed}");
    }

    #[test]
    fn fails_when_nothing_listens() {
        let address = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        assert!(check(address, TIMEOUT).unwrap_err().contains("cannot connect"));
    }

    #[test]
    fn fails_when_the_server_does_not_answer_in_time() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let failed = check(listener.local_addr().unwrap(), Duration::from_millis(200)).unwrap_err();
        assert!(failed.contains("no answer"), "{failed}");
    }

    #[test]
    fn reaches_a_wildcard_listener_through_loopback() {
        assert_eq!(address("0.0.0.0", 8080), Ok("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(address("::", 8080), Ok("[::1]:8080".parse().unwrap()));
        assert_eq!(address("127.0.0.1", 9000), Ok("127.0.0.1:9000".parse().unwrap()));
        assert_eq!(address("localhost", 9000).map(|address| address.port()), Ok(9000));
    }
}
