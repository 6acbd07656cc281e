use adapters::{KeyPool, PooledKey, ProvisionError, ProvisionPlan, Retirement, StoreError};
use domain::{ApiKey, Binding, KeyId, KeyName, KeyStatus, OpenHandsKey, Priority, ProxyId};
use sha2::{Digest, Sha256};

use super::KeyService;

/// A request to add a key to the pool, parsed at the HTTP boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvisionRequest {
    pub api_key: ApiKey,
    pub name: KeyName,
    pub replace_key_id: Option<KeyId>,
    pub force: bool,
    pub priority: Option<Priority>,
    pub proxy_id: Option<ProxyId>,
}

impl ProvisionRequest {
    /// What the request means, as a digest: two bodies that ask for the same thing (whatever
    /// their spacing, member order or explicit nulls) share it. Holds no key in the clear.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::json!([
            self.api_key.expose(),
            self.name.as_str(),
            self.replace_key_id.as_ref().map(KeyId::as_str),
            self.force,
            self.priority.map(Priority::value),
            self.proxy_id.as_ref().map(ProxyId::as_str),
        ]);
        format!("{:x}", Sha256::digest(canonical.to_string()))
    }
}

/// The key now in the pool, the binding that serves it, and the key it replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct Provisioned {
    pub key: OpenHandsKey,
    pub binding: Binding,
    pub replaced_key: Option<KeyId>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProvisionKeyError {
    #[error("proxy {0} does not exist")]
    UnknownProxy(ProxyId),
    #[error("the configured target proxy {0} does not exist")]
    TargetProxyMissing(ProxyId),
    #[error("this API key is already in the pool as {0}")]
    DuplicateApiKey(KeyId),
    #[error("key {key_id} is {status}; replacing it needs force")]
    ReplaceRefused { key_id: KeyId, status: KeyStatus },
    /// Other writers kept taking the ids or the key we tried to write.
    #[error("the pool kept changing under this request; retry it")]
    Contention,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How often a write that lost a race is planned again before giving up.
const MAX_ATTEMPTS: usize = 5;
/// The pause after losing a race for an API key, times the attempt.
const RACE_BACKOFF: std::time::Duration = std::time::Duration::from_millis(25);

impl<P: KeyPool> KeyService<P> {
    /// A fresh id for a key named `name`, for a request that records it before provisioning.
    pub fn next_key_id(&self, name: &KeyName) -> KeyId {
        self.ids.generate(name)
    }

    /// Adds a key to the pool and binds it to a proxy, retiring `replace_key_id` once the new
    /// key is live. A key that an interrupted earlier request left unbound, or whose
    /// replacement was not finished, is finished instead of refused.
    ///
    /// `planned_key_id` is the id an idempotent request recorded before starting: the new key
    /// gets it, and finding that key already bound means an earlier attempt of this same
    /// request did the work, which is then reported rather than refused as a duplicate.
    pub async fn provision_key(
        &self,
        request: &ProvisionRequest,
        planned_key_id: Option<&KeyId>,
    ) -> Result<Provisioned, ProvisionKeyError> {
        let proxy_id = self.resolve_proxy(request).await?;
        let replaced = match &request.replace_key_id {
            Some(key_id) => self.pool.find_key(key_id).await?,
            None => None,
        };
        if let Some(old) = &replaced
            && old.status.is_serving()
            && !request.force
        {
            return Err(ProvisionKeyError::ReplaceRefused { key_id: old.id.clone(), status: old.status.clone() });
        }
        let target = Target { proxy_id, priority: request.priority.unwrap_or(self.default_priority) };

        // The planned id is kept across attempts; only another key holding it gives way to a
        // fresh one.
        let mut new_id = planned_key_id.cloned().unwrap_or_else(|| self.ids.generate(&request.name));
        for attempt in 0..MAX_ATTEMPTS {
            let (plan, provisioned) = match self.pool.find_by_api_key(&request.api_key).await? {
                Some(existing) if Some(&existing.key.id) == planned_key_id && replaced.is_none() => {
                    if let Some(binding) = existing.binding {
                        return self.report_earlier_attempt(request, existing.key, binding).await;
                    }
                    self.plan_finish(existing, None, &target)?
                }
                Some(existing) => self.plan_finish(existing, replaced.as_ref(), &target)?,
                None => self.plan_new(new_id.clone(), request, replaced.as_ref(), &target),
            };
            match self.pool.provision(&plan).await {
                Ok(()) => return Ok(provisioned),
                // Someone else took the id: plan again with a fresh one.
                Err(ProvisionError::KeyIdTaken(_)) => new_id = self.ids.generate(&request.name),
                // Another request is adding the same key: give it a moment to finish, then plan
                // again (it is then a duplicate, or a claim its dead owner left behind).
                Err(ProvisionError::ApiKeyTaken(_)) => {
                    tokio::time::sleep(RACE_BACKOFF * (attempt as u32 + 1)).await;
                    continue;
                }
                Err(ProvisionError::Store(error)) => return Err(error.into()),
            }
        }
        Err(ProvisionKeyError::Contention)
    }

    async fn resolve_proxy(&self, request: &ProvisionRequest) -> Result<ProxyId, ProvisionKeyError> {
        let (proxy_id, missing): (_, fn(ProxyId) -> ProvisionKeyError) = match &request.proxy_id {
            Some(asked) => (asked, ProvisionKeyError::UnknownProxy),
            None => (&self.target_proxy_id, ProvisionKeyError::TargetProxyMissing),
        };
        if self.pool.proxy_exists(proxy_id).await? { Ok(proxy_id.clone()) } else { Err(missing(proxy_id.clone())) }
    }

    /// An earlier attempt of this request created and bound the key, and retired what it
    /// replaced: answer as it would have.
    async fn report_earlier_attempt(
        &self,
        request: &ProvisionRequest,
        key: OpenHandsKey,
        binding: Binding,
    ) -> Result<Provisioned, ProvisionKeyError> {
        let replaced_key = match &request.replace_key_id {
            Some(old) if self.pool.was_retired_by(old, &key.id).await? => Some(old.clone()),
            _ => None,
        };
        Ok(Provisioned { key, binding, replaced_key })
    }

    fn plan_new(
        &self,
        id: KeyId,
        request: &ProvisionRequest,
        replaced: Option<&OpenHandsKey>,
        target: &Target,
    ) -> (ProvisionPlan, Provisioned) {
        let now = self.ids.now();
        let key = OpenHandsKey::new(id, request.api_key.clone(), now);
        let binding = Binding::new(target.proxy_id.clone(), key.id.clone(), target.priority, now);
        let retirement =
            replaced.map(|old| Retirement { key_id: old.id.clone(), replaced_by: key.id.clone(), at: now });
        let plan = ProvisionPlan { new_key: Some(key.clone()), new_binding: Some(binding.clone()), retirement };
        (plan, Provisioned { key, binding, replaced_key: replaced.map(|old| old.id.clone()) })
    }

    /// The key is already in the pool: finish what an earlier request left undone, or refuse
    /// a duplicate when there is nothing left to do.
    fn plan_finish(
        &self,
        existing: PooledKey,
        replaced: Option<&OpenHandsKey>,
        target: &Target,
    ) -> Result<(ProvisionPlan, Provisioned), ProvisionKeyError> {
        let replaced = replaced.filter(|old| old.id != existing.key.id);
        if existing.binding.is_some() && replaced.is_none() {
            return Err(ProvisionKeyError::DuplicateApiKey(existing.key.id));
        }
        let now = self.ids.now();
        let (new_binding, binding) = match existing.binding {
            Some(binding) => (None, binding),
            None => {
                let binding = Binding::new(target.proxy_id.clone(), existing.key.id.clone(), target.priority, now);
                (Some(binding.clone()), binding)
            }
        };
        let retirement =
            replaced.map(|old| Retirement { key_id: old.id.clone(), replaced_by: existing.key.id.clone(), at: now });
        let plan = ProvisionPlan { new_key: None, new_binding, retirement };
        Ok((plan, Provisioned { key: existing.key, binding, replaced_key: replaced.map(|old| old.id.clone()) }))
    }
}

struct Target {
    proxy_id: ProxyId,
    priority: Priority,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::application::test_support::{
        FIXED_NOW_MS, binding_document, key_document, service_with, service_with_suffixes,
    };
    use adapters::RawDocuments;
    use adapters::documents::{ARCHIVE, BINDINGS, KEYS};

    fn request(api_key: &str) -> ProvisionRequest {
        ProvisionRequest {
            api_key: ApiKey::parse(api_key).unwrap(),
            name: KeyName::default(),
            replace_key_id: None,
            force: false,
            priority: None,
            proxy_id: None,
        }
    }

    fn replacing(api_key: &str, old: &str) -> ProvisionRequest {
        ProvisionRequest { replace_key_id: Some(KeyId::parse(old).unwrap()), ..request(api_key) }
    }

    async fn count<P: RawDocuments>(pool: &P, collection: &str) -> usize {
        pool.documents(collection).await.unwrap().len()
    }

    #[tokio::test]
    async fn creates_a_healthy_key_bound_to_the_target_proxy() {
        let service = service_with(vec![]).await;

        let provisioned = service.provision_key(&request("sk-brand-new-key-0001"), None).await.unwrap();

        assert_eq!(provisioned.key.id.as_str(), format!("oh-key-{FIXED_NOW_MS}-aaaaaa"));
        assert_eq!(provisioned.key.status, KeyStatus::Healthy);
        assert_eq!(provisioned.binding.proxy_id.as_str(), "proxy-6");
        assert_eq!(provisioned.binding.priority.value(), 1);
        assert!(provisioned.binding.is_active);
        assert_eq!(provisioned.replaced_key, None);
        let found = service.pool().find_by_api_key(&ApiKey::parse("sk-brand-new-key-0001").unwrap()).await.unwrap();
        assert_eq!(found.unwrap().binding, Some(provisioned.binding));
    }

    #[tokio::test]
    async fn honours_name_priority_and_proxy() {
        let service = service_with(vec![]).await;
        let asked = ProvisionRequest {
            name: KeyName::parse("tai-p4").unwrap(),
            priority: Some(Priority::parse(7).unwrap()),
            proxy_id: Some(ProxyId::parse("proxy-1").unwrap()),
            ..request("sk-named-key-00001")
        };

        let provisioned = service.provision_key(&asked, None).await.unwrap();

        assert!(provisioned.key.id.as_str().starts_with("tai-p4-"));
        assert_eq!((provisioned.binding.proxy_id.as_str(), provisioned.binding.priority.value()), ("proxy-1", 7));
    }

    #[tokio::test]
    async fn refuses_an_unknown_proxy_and_a_missing_target_without_writing() {
        let service = service_with(vec![]).await;
        let unknown =
            ProvisionRequest { proxy_id: Some(ProxyId::parse("proxy-404").unwrap()), ..request("sk-key-000000001") };
        assert_eq!(
            service.provision_key(&unknown, None).await,
            Err(ProvisionKeyError::UnknownProxy(ProxyId::parse("proxy-404").unwrap()))
        );

        let without_target = crate::application::test_support::service_targeting("proxy-gone", vec![]).await;
        assert_eq!(
            without_target.provision_key(&request("sk-key-000000001"), None).await,
            Err(ProvisionKeyError::TargetProxyMissing(ProxyId::parse("proxy-gone").unwrap()))
        );
        assert_eq!(count(service.pool(), KEYS).await + count(without_target.pool(), KEYS).await, 0);
    }

    #[tokio::test]
    async fn refuses_a_bound_duplicate() {
        let service = service_with(vec![]).await;
        let first = service.provision_key(&request("sk-twice-000000001"), None).await.unwrap();

        let second = service.provision_key(&request("sk-twice-000000001"), None).await;

        assert_eq!(second, Err(ProvisionKeyError::DuplicateApiKey(first.key.id)));
        assert_eq!((count(service.pool(), KEYS).await, count(service.pool(), BINDINGS).await), (1, 1));
    }

    #[tokio::test]
    async fn finishes_an_unbound_existing_key() {
        let service = service_with(vec![key_document("left-unbound", "sk-unbound-00001", "healthy", Some(1))]).await;

        let provisioned = service.provision_key(&request("sk-unbound-00001"), None).await.unwrap();

        assert_eq!(provisioned.key.id.as_str(), "left-unbound");
        assert_eq!(provisioned.binding.proxy_id.as_str(), "proxy-6");
        assert_eq!((count(service.pool(), KEYS).await, count(service.pool(), BINDINGS).await), (1, 1));
    }

    #[tokio::test]
    async fn replaces_a_key_archiving_it_before_deleting_it_and_its_bindings() {
        let service = service_with(vec![key_document("old", "sk-old-key-000001", "need_refresh", Some(1))]).await;
        service.pool().insert_documents(BINDINGS, vec![binding_document("old", "proxy-6")]).await.unwrap();

        let provisioned = service.provision_key(&replacing("sk-new-key-000001", "old"), None).await.unwrap();

        assert_eq!(provisioned.replaced_key.map(|id| id.to_string()), Some("old".into()));
        assert_eq!(service.pool().find_key(&KeyId::parse("old").unwrap()).await.unwrap(), None);
        let bindings = service.pool().documents(BINDINGS).await.unwrap();
        assert_eq!(bindings.len(), 1);
        assert_eq!(bindings[0].get_str("openhandsKeyId").unwrap(), provisioned.key.id.as_str());
        let archive = service.pool().documents(ARCHIVE).await.unwrap();
        assert_eq!(archive.len(), 1);
        assert_eq!(archive[0].get_document("document").unwrap().get_str("apiKey").unwrap(), "sk-old-key-000001");
    }

    #[tokio::test]
    async fn refuses_to_replace_a_serving_key_without_force() {
        for status in ["healthy", "rate_limited"] {
            let service = service_with(vec![key_document("old", "sk-old-key-000001", status, Some(1))]).await;

            let refused = service.provision_key(&replacing("sk-new-key-000001", "old"), None).await;

            assert!(matches!(refused, Err(ProvisionKeyError::ReplaceRefused { .. })), "{status}: {refused:?}");
            assert_eq!(count(service.pool(), KEYS).await, 1);
            let forced = ProvisionRequest { force: true, ..replacing("sk-new-key-000001", "old") };
            assert!(service.provision_key(&forced, None).await.unwrap().replaced_key.is_some());
            assert_eq!(count(service.pool(), ARCHIVE).await, 1);
        }
    }

    #[tokio::test]
    async fn a_missing_replace_target_is_reported_as_none() {
        let service = service_with(vec![]).await;
        let provisioned = service.provision_key(&replacing("sk-new-key-000001", "gone"), None).await.unwrap();
        assert_eq!(provisioned.replaced_key, None);
        assert_eq!(count(service.pool(), ARCHIVE).await, 0);
    }

    #[tokio::test]
    async fn a_retry_finishes_an_interrupted_replacement_once() {
        // An earlier request inserted and bound the new key, then died before retiring "old".
        let service = service_with(vec![
            key_document("old", "sk-old-key-000001", "need_refresh", Some(1)),
            key_document("new", "sk-new-key-000001", "healthy", Some(2)),
        ])
        .await;
        service.pool().insert_documents(BINDINGS, vec![binding_document("new", "proxy-6")]).await.unwrap();

        let retried = service.provision_key(&replacing("sk-new-key-000001", "old"), None).await.unwrap();
        assert_eq!((retried.key.id.as_str(), retried.replaced_key.as_ref().map(KeyId::as_str)), ("new", Some("old")));
        assert_eq!(count(service.pool(), ARCHIVE).await, 1);

        // The replacement is done: the same request now is a plain duplicate.
        let again = service.provision_key(&replacing("sk-new-key-000001", "old"), None).await;
        assert_eq!(again, Err(ProvisionKeyError::DuplicateApiKey(KeyId::parse("new").unwrap())));
        assert_eq!((count(service.pool(), KEYS).await, count(service.pool(), ARCHIVE).await), (1, 1));
    }

    #[tokio::test]
    async fn replacing_a_key_with_itself_is_a_duplicate() {
        let service = service_with(vec![key_document("same", "sk-same-key-00001", "need_refresh", Some(1))]).await;
        service.pool().insert_documents(BINDINGS, vec![binding_document("same", "proxy-6")]).await.unwrap();

        let result = service.provision_key(&replacing("sk-same-key-00001", "same"), None).await;

        assert_eq!(result, Err(ProvisionKeyError::DuplicateApiKey(KeyId::parse("same").unwrap())));
        assert_eq!(count(service.pool(), KEYS).await, 1);
    }

    #[tokio::test]
    async fn an_id_collision_retries_with_fresh_randomness() {
        let service = service_with_suffixes(&["aaaaaa", "aaaaaa", "bbbbbb"]).await;
        let first = service.provision_key(&request("sk-first-key-00001"), None).await.unwrap();
        let second = service.provision_key(&request("sk-second-key-0001"), None).await.unwrap();
        assert!(first.key.id.as_str().ends_with("-aaaaaa"));
        assert!(second.key.id.as_str().ends_with("-bbbbbb"), "{:?}", second.key.id);
    }

    #[test]
    fn the_fingerprint_follows_meaning_not_spelling() {
        let plain = request("sk-print-000000001");
        let explicit = ProvisionRequest { force: false, name: KeyName::parse("oh-key").unwrap(), ..plain.clone() };
        assert_eq!(plain.fingerprint(), explicit.fingerprint());
        let forced = ProvisionRequest { force: true, ..plain.clone() };
        let other_key = request("sk-print-000000002");
        assert_ne!(plain.fingerprint(), forced.fingerprint());
        assert_ne!(plain.fingerprint(), other_key.fingerprint());
        assert!(!plain.fingerprint().contains("sk-print"));
        assert_eq!(plain.fingerprint().len(), 64);
    }

    #[tokio::test]
    async fn a_planned_key_id_names_the_new_key() {
        let service = service_with(vec![]).await;
        let planned = KeyId::parse("oh-key-1-planned").unwrap();
        let provisioned = service.provision_key(&request("sk-planned-key-0001"), Some(&planned)).await.unwrap();
        assert_eq!(provisioned.key.id, planned);
    }

    #[tokio::test]
    async fn a_planned_key_already_done_is_reported_not_refused() {
        let service = service_with(vec![key_document("old", "sk-old-key-000001", "need_refresh", Some(1))]).await;
        let planned = KeyId::parse("oh-key-1-planned").unwrap();
        let asked = replacing("sk-planned-key-0001", "old");
        let first = service.provision_key(&asked, Some(&planned)).await.unwrap();
        let writes = (count(service.pool(), KEYS).await, count(service.pool(), BINDINGS).await);

        let again = service.provision_key(&asked, Some(&planned)).await.unwrap();

        assert_eq!(again, first);
        assert_eq!(again.replaced_key, Some(KeyId::parse("old").unwrap()));
        assert_eq!((count(service.pool(), KEYS).await, count(service.pool(), BINDINGS).await), writes);
        assert_eq!(count(service.pool(), ARCHIVE).await, 1);
        // Without the plan, the same request is a duplicate.
        assert!(matches!(service.provision_key(&asked, None).await, Err(ProvisionKeyError::DuplicateApiKey(_))));
    }

    #[tokio::test]
    async fn a_planned_key_left_unbound_is_finished() {
        let service =
            service_with(vec![key_document("oh-key-1-planned", "sk-planned-key-0001", "healthy", Some(1))]).await;
        let planned = KeyId::parse("oh-key-1-planned").unwrap();
        let provisioned = service.provision_key(&request("sk-planned-key-0001"), Some(&planned)).await.unwrap();
        assert_eq!(provisioned.key.id, planned);
        assert_eq!(count(service.pool(), BINDINGS).await, 1);
    }

    #[tokio::test]
    async fn a_planned_key_id_held_by_another_key_gives_way_to_a_fresh_one() {
        let service =
            service_with(vec![key_document("oh-key-1-planned", "sk-someone-else-01", "healthy", Some(1))]).await;
        let planned = KeyId::parse("oh-key-1-planned").unwrap();
        let provisioned = service.provision_key(&request("sk-planned-key-0001"), Some(&planned)).await.unwrap();
        assert_ne!(provisioned.key.id, planned);
        assert_eq!(count(service.pool(), KEYS).await, 2);
    }

    #[tokio::test]
    async fn gives_up_when_every_id_is_taken() {
        let service = service_with_suffixes(&["aaaaaa"]).await;
        service.provision_key(&request("sk-first-key-00001"), None).await.unwrap();
        assert_eq!(
            service.provision_key(&request("sk-second-key-0001"), None).await,
            Err(ProvisionKeyError::Contention)
        );
        assert_eq!(count(service.pool(), KEYS).await, 1);
    }
}
