//! Console sessions on AWS: the ID token in the session cookie, verified (RS256) against the
//! user pool's published keys, kept in a cache refreshed at start and on an unknown key id.

use super::*;

// ------------------------------------------------------------------ sessions (ID tokens)

pub(super) struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    last_fetch: Option<Instant>,
}

/// The pool's key set and what checks tokens against it.
pub(super) struct Inner {
    issuer: String,
    client_id: String,
    jwks_url: String,
    http: reqwest::Client,
    cache: RwLock<KeyCache>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Deserialize)]
pub(super) struct IdClaims {
    sub: Option<String>,
    exp: i64,
    token_use: Option<String>,
    #[serde(rename = "cognito:groups")]
    groups: Option<Value>,
    #[serde(rename = "custom:unit")]
    unit: Option<String>,
    name: Option<String>,
    email: Option<String>,
    #[serde(rename = "cognito:username")]
    username: Option<String>,
}

impl Inner {
    fn new(cfg: &CognitoConfig) -> Inner {
        Inner {
            issuer: cfg.issuer.clone(),
            client_id: cfg.client_id.clone(),
            jwks_url: cfg.jwks_url.clone(),
            http: http_client(),
            cache: RwLock::new(KeyCache {
                keys: HashMap::new(),
                last_fetch: None,
            }),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    fn recently_fetched(&self) -> bool {
        let c = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        c.last_fetch
            .is_some_and(|t| t.elapsed() < MIN_REFRESH_INTERVAL)
    }

    /// Fetches the key set and replaces the cache, unless one was fetched less than
    /// [`MIN_REFRESH_INTERVAL`] ago. Failed attempts count too (the limit is on requests).
    async fn refresh(&self) -> Result<(), String> {
        let _one = self.fetching.lock().await;
        if self.recently_fetched() {
            return Ok(());
        }
        self.cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .last_fetch = Some(Instant::now());
        let set: JwkSet = self
            .http
            .get(&self.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), AlgorithmParameters::RSA(rsa)) = (&jwk.common.key_id, &jwk.algorithm)
            else {
                continue;
            };
            if let Ok(k) = DecodingKey::from_rsa_components(&rsa.n, &rsa.e) {
                keys.insert(kid.clone(), k);
            }
        }
        if keys.is_empty() {
            return Err("the key set has no RSA key".into());
        }
        self.cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .keys = keys;
        Ok(())
    }

    fn kid_of(token: &str) -> Result<String, Problem> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| Problem::unauthorized("Mã đăng nhập không hợp lệ."))?;
        if header.alg != Algorithm::RS256 {
            return Err(Problem::unauthorized("Mã đăng nhập không hợp lệ."));
        }
        header
            .kid
            .ok_or_else(|| Problem::unauthorized("Mã đăng nhập không hợp lệ."))
    }

    fn is_known(&self, kid: &str) -> bool {
        self.cache
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys
            .contains_key(kid)
    }

    /// Verifies with the cached keys only.
    fn verify_cached(&self, token: &str) -> Result<Session, Problem> {
        let kid = Self::kid_of(token)?;
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.client_id]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.leeway = LEEWAY_SECS;
        let data = {
            let c = self.cache.read().unwrap_or_else(PoisonError::into_inner);
            let key = c
                .keys
                .get(&kid)
                .ok_or_else(|| Problem::unauthorized("Mã đăng nhập không hợp lệ."))?;
            jsonwebtoken::decode::<IdClaims>(token, key, &v)
        }
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                Problem::unauthorized("Phiên đăng nhập đã hết hạn.")
            }
            _ => Problem::unauthorized("Mã đăng nhập không hợp lệ."),
        })?;
        let c = data.claims;
        if c.token_use.as_deref() != Some("id") {
            return Err(Problem::unauthorized(
                "Mã đăng nhập không phải mã định danh.",
            ));
        }
        let groups = groups_of(c.groups.as_ref());
        // The account id is the Cognito username (infra/aws/src/cognito.rs); `sub` only for a
        // token without one.
        let id = c.username.as_deref().or(c.sub.as_deref());
        let actor = actor_from_claims(id, &groups, c.unit.as_deref())?;
        let name = [c.name, c.email, c.username]
            .into_iter()
            .flatten()
            .find(|n| !n.trim().is_empty())
            .unwrap_or_else(|| actor.id.clone());
        Ok(Session {
            expires_at: DateTime::from_timestamp(c.exp, 0).unwrap_or_else(Utc::now),
            actor,
            name,
            issued_at: None,
        })
    }

    /// Verifies a token, fetching the key set first when its `kid` is unknown (bounded).
    async fn verify_fresh(&self, token: &str) -> Result<Session, Problem> {
        let kid = Self::kid_of(token)?;
        if !self.is_known(&kid) {
            if let Err(e) = self.refresh().await {
                tracing::warn!(error = %e, "console: fetching the user pool's keys failed");
            }
        }
        self.verify_cached(token)
    }
}

/// Verifies console sessions: Cognito ID tokens, against the pool's cached key set.
#[derive(Clone)]
pub struct CognitoSessions {
    inner: Arc<Inner>,
}

impl CognitoSessions {
    pub fn new(cfg: &CognitoConfig) -> CognitoSessions {
        CognitoSessions {
            inner: Arc::new(Inner::new(cfg)),
        }
    }

    /// Fetches the key set in the background when a Tokio runtime is running (at start);
    /// without one, the first sign-in's callback fetches it.
    pub fn prefetch(&self) {
        self.refresh_in_background();
    }

    fn refresh_in_background(&self) {
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let inner = self.inner.clone();
            rt.spawn(async move {
                if let Err(e) = inner.refresh().await {
                    tracing::warn!(error = %e, "console: fetching the user pool's keys failed");
                }
            });
        }
    }

    /// Fetches the key set now (bounded: at most once per [`MIN_REFRESH_INTERVAL`]).
    pub async fn refresh(&self) -> Result<(), String> {
        self.inner.refresh().await
    }

    /// The key ids in the cache.
    pub fn cached_kids(&self) -> Vec<String> {
        let c = self
            .inner
            .cache
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut kids: Vec<String> = c.keys.keys().cloned().collect();
        kids.sort();
        kids
    }

    /// Verifies a token, fetching the key set first when its `kid` is unknown (bounded).
    pub async fn verify_fresh(&self, token: &str) -> Result<Session, Problem> {
        self.inner.verify_fresh(token).await
    }
}

impl Sessions for CognitoSessions {
    /// Reads the cached keys only; an unknown `kid` starts a background refresh (bounded)
    /// and the request goes to sign-in, whose callback verifies with fresh keys.
    fn verify(&self, token: &str) -> Result<Session, Problem> {
        let r = self.inner.verify_cached(token);
        if r.is_err() {
            if let Ok(kid) = Inner::kid_of(token) {
                if !self.inner.is_known(&kid) && !self.inner.recently_fetched() {
                    self.refresh_in_background();
                }
            }
        }
        r
    }
}
