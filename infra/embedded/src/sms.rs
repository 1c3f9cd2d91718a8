//! SMS providers of the embedded runtime: an HTTP gateway in the common shape of Vietnamese
//! brand-name SMS providers (one POST per message: the phone, the text and the brand name in a
//! JSON or form body, credentials as HTTP basic auth, a bearer token or API-key fields), and a
//! local fake that only records what it is given (tests, the demo, the console page
//! "Tin nhắn sẽ được gửi").

use async_trait::async_trait;
use phananh_core::delivery::SmsProvider;
use phananh_core::ports::NotifyError;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// One message the fake provider was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeSms {
    pub id: String,
    pub to: String,
    pub body: String,
}

/// Records every SMS in memory (the delivery log keeps them durably) and accepts it; can be
/// told to refuse, to show retries and dead letters.
#[derive(Debug, Default)]
pub struct FakeSmsProvider {
    seq: AtomicU64,
    failing: AtomicBool,
    sent: Mutex<Vec<FakeSms>>,
}

/// The fake keeps the latest messages only.
const FAKE_KEEP: usize = 10_000;

impl FakeSmsProvider {
    pub fn new() -> FakeSmsProvider {
        FakeSmsProvider::default()
    }

    /// Refuse (true) or accept (false) the next messages.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    /// The messages accepted, oldest first.
    pub fn messages(&self) -> Vec<FakeSms> {
        self.sent.lock().map(|g| g.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl SmsProvider for FakeSmsProvider {
    fn name(&self) -> &str {
        "fake"
    }

    async fn send_sms(&self, to: &str, body: &str) -> Result<String, NotifyError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(NotifyError("fake provider set to refuse".into()));
        }
        let id = format!("fake-{}", self.seq.fetch_add(1, Ordering::SeqCst) + 1);
        let mut g = self
            .sent
            .lock()
            .map_err(|_| NotifyError("fake provider lock".into()))?;
        if g.len() >= FAKE_KEEP {
            g.remove(0);
        }
        g.push(FakeSms {
            id: id.clone(),
            to: to.to_string(),
            body: body.to_string(),
        });
        Ok(id)
    }
}

/// How the gateway's request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Form,
}

/// How the phone number is written in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneFormat {
    /// `+84912345678`
    E164,
    /// `84912345678`
    Digits,
    /// `0912345678` (numbers of the country code only)
    National,
}

/// How the gateway is called. Field names and the message-id path differ by provider, the
/// shape does not.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpSmsConfig {
    pub url: String,
    pub format: BodyFormat,
    /// The registered brand name (sender name).
    pub sender: String,
    pub phone_field: String,
    pub text_field: String,
    pub sender_field: String,
    pub phone_format: PhoneFormat,
    /// Country code for [`PhoneFormat::National`] (`84`).
    pub country_code: String,
    /// Constant fields the provider requires (`SmsType=2`), plus the API-key fields.
    pub extra_fields: Vec<(String, String)>,
    pub basic_auth: Option<(String, String)>,
    pub bearer_token: Option<String>,
    /// JSON pointer to the message id in the reply (`/SMSID`, `/data/tranId`); without it the
    /// reply's HTTP status is recorded.
    pub id_pointer: Option<String>,
    /// A JSON pointer and the value it must have for success (`/CodeResult` = `100`); without
    /// it any 2xx reply is a success.
    pub success: Option<(String, String)>,
    pub timeout: Duration,
}

impl std::fmt::Debug for HttpSmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSmsConfig")
            .field("url", &self.url)
            .field("format", &self.format)
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

impl HttpSmsConfig {
    /// A JSON gateway at `url` with the field names `phone`, `message`, `sender`.
    pub fn new(url: impl Into<String>, sender: impl Into<String>) -> HttpSmsConfig {
        HttpSmsConfig {
            url: url.into(),
            format: BodyFormat::Json,
            sender: sender.into(),
            phone_field: "phone".into(),
            text_field: "message".into(),
            sender_field: "sender".into(),
            phone_format: PhoneFormat::Digits,
            country_code: "84".into(),
            extra_fields: Vec::new(),
            basic_auth: None,
            bearer_token: None,
            id_pointer: None,
            success: None,
            timeout: Duration::from_secs(15),
        }
    }

    /// Reads the `PHANANH_SMS_*` variables (documented in config/README.md):
    /// `URL`, `FORMAT` (json|form), `SENDER`, `PHONE_FIELD`, `TEXT_FIELD`, `SENDER_FIELD`,
    /// `PHONE_FORMAT` (e164|digits|national), `EXTRA` (`k=v&k2=v2`), `API_KEY_FIELD` +
    /// `API_KEY`, `API_SECRET_FIELD` + `API_SECRET`, `USERNAME` + `PASSWORD` (basic auth),
    /// `TOKEN` (bearer), `ID_POINTER`, `SUCCESS_POINTER` + `SUCCESS_VALUE`, `TIMEOUT_SECS`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<HttpSmsConfig, String> {
        let var = |k: &str| {
            get(&format!("PHANANH_SMS_{k}"))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let url = var("URL").ok_or("PHANANH_SMS_URL is required for the http provider")?;
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("PHANANH_SMS_URL={url:?}: not an http(s) URL"));
        }
        let sender = var("SENDER").ok_or("PHANANH_SMS_SENDER (the brand name) is required")?;
        let mut c = HttpSmsConfig::new(url, sender);
        c.format = match var("FORMAT").as_deref() {
            None | Some("json") => BodyFormat::Json,
            Some("form") => BodyFormat::Form,
            Some(o) => return Err(format!("PHANANH_SMS_FORMAT={o:?}: json or form")),
        };
        c.phone_format = match var("PHONE_FORMAT").as_deref() {
            None | Some("digits") => PhoneFormat::Digits,
            Some("e164") => PhoneFormat::E164,
            Some("national") => PhoneFormat::National,
            Some(o) => {
                return Err(format!(
                    "PHANANH_SMS_PHONE_FORMAT={o:?}: e164, digits or national"
                ))
            }
        };
        if let Some(f) = var("PHONE_FIELD") {
            c.phone_field = f;
        }
        if let Some(f) = var("TEXT_FIELD") {
            c.text_field = f;
        }
        if let Some(f) = var("SENDER_FIELD") {
            c.sender_field = f;
        }
        if let Some(extra) = var("EXTRA") {
            for pair in extra.split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("PHANANH_SMS_EXTRA: {pair:?} is not key=value"))?;
                c.extra_fields.push((k.to_string(), v.to_string()));
            }
        }
        for (field, value) in [
            ("API_KEY_FIELD", "API_KEY"),
            ("API_SECRET_FIELD", "API_SECRET"),
        ] {
            match (var(field), get(&format!("PHANANH_SMS_{value}"))) {
                (Some(f), Some(v)) => c.extra_fields.push((f, v)),
                (Some(_), None) => return Err(format!("PHANANH_SMS_{value} is not set")),
                _ => {}
            }
        }
        if let Some(u) = var("USERNAME") {
            let p = get("PHANANH_SMS_PASSWORD").ok_or("PHANANH_SMS_PASSWORD is not set")?;
            c.basic_auth = Some((u, p));
        }
        c.bearer_token = get("PHANANH_SMS_TOKEN").filter(|t| !t.is_empty());
        c.id_pointer = var("ID_POINTER");
        if let Some(p) = var("SUCCESS_POINTER") {
            let v = var("SUCCESS_VALUE").ok_or("PHANANH_SMS_SUCCESS_VALUE is not set")?;
            c.success = Some((p, v));
        }
        if let Some(s) = var("TIMEOUT_SECS") {
            let n: u64 = s
                .parse()
                .ok()
                .filter(|n| (1..=120).contains(n))
                .ok_or_else(|| format!("PHANANH_SMS_TIMEOUT_SECS={s:?}: 1 to 120"))?;
            c.timeout = Duration::from_secs(n);
        }
        Ok(c)
    }

    /// The number as the provider wants it, from E.164.
    pub fn phone(&self, e164: &str) -> String {
        let digits = e164.trim_start_matches('+');
        match self.phone_format {
            PhoneFormat::E164 => format!("+{digits}"),
            PhoneFormat::Digits => digits.to_string(),
            PhoneFormat::National => match digits.strip_prefix(self.country_code.as_str()) {
                Some(rest) => format!("0{rest}"),
                None => digits.to_string(),
            },
        }
    }

    /// The request's fields, in order.
    pub fn fields(&self, to: &str, body: &str) -> Vec<(String, String)> {
        let mut f = vec![
            (self.phone_field.clone(), self.phone(to)),
            (self.text_field.clone(), body.to_string()),
            (self.sender_field.clone(), self.sender.clone()),
        ];
        f.extend(self.extra_fields.iter().cloned());
        f
    }
}

/// Sends each SMS as one HTTP POST to the gateway.
pub struct HttpSmsGateway {
    cfg: HttpSmsConfig,
    client: reqwest::Client,
}

impl HttpSmsGateway {
    pub fn new(cfg: HttpSmsConfig) -> Result<HttpSmsGateway, String> {
        let client = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(HttpSmsGateway { cfg, client })
    }
}

/// Most bytes of a reply kept in an error.
const REPLY_SNIPPET: usize = 300;

fn snippet(s: &str) -> String {
    s.chars().take(REPLY_SNIPPET).collect()
}

#[async_trait]
impl SmsProvider for HttpSmsGateway {
    fn name(&self) -> &str {
        "http-gateway"
    }

    async fn send_sms(&self, to: &str, body: &str) -> Result<String, NotifyError> {
        let fields = self.cfg.fields(to, body);
        let mut req = self.client.post(&self.cfg.url);
        req = match self.cfg.format {
            BodyFormat::Json => {
                let map: serde_json::Map<String, serde_json::Value> = fields
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect();
                req.json(&map)
            }
            BodyFormat::Form => req.form(&fields),
        };
        if let Some((u, p)) = &self.cfg.basic_auth {
            req = req.basic_auth(u, Some(p));
        }
        if let Some(t) = &self.cfg.bearer_token {
            req = req.bearer_auth(t);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| NotifyError(format!("sms gateway: {e}")))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| NotifyError(format!("sms gateway reply: {e}")))?;
        if !status.is_success() {
            return Err(NotifyError(format!(
                "sms gateway HTTP {}: {}",
                status.as_u16(),
                snippet(&text)
            )));
        }
        let json: Option<serde_json::Value> = serde_json::from_str(&text).ok();
        let at = |ptr: &str| {
            json.as_ref().and_then(|j| j.pointer(ptr)).map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        if let Some((ptr, want)) = &self.cfg.success {
            if at(ptr).as_deref() != Some(want.as_str()) {
                return Err(NotifyError(format!(
                    "sms gateway refused: {}",
                    snippet(&text)
                )));
            }
        }
        Ok(match &self.cfg.id_pointer {
            Some(ptr) => at(ptr).ok_or_else(|| {
                NotifyError(format!(
                    "sms gateway reply without {ptr}: {}",
                    snippet(&text)
                ))
            })?,
            None => format!("http-{}", status.as_u16()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let v: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| v.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn an_esms_style_gateway_is_configured_from_the_environment() {
        let c = HttpSmsConfig::from_env(env(&[
            (
                "PHANANH_SMS_URL",
                "https://sms.example.vn/MainService.svc/json/SendMultipleMessage_V4_post_json/",
            ),
            ("PHANANH_SMS_SENDER", "UBND LAICHAU"),
            ("PHANANH_SMS_PHONE_FIELD", "Phone"),
            ("PHANANH_SMS_TEXT_FIELD", "Content"),
            ("PHANANH_SMS_SENDER_FIELD", "Brandname"),
            ("PHANANH_SMS_PHONE_FORMAT", "national"),
            ("PHANANH_SMS_EXTRA", "SmsType=2"),
            ("PHANANH_SMS_API_KEY_FIELD", "ApiKey"),
            ("PHANANH_SMS_API_KEY", "k-123"),
            ("PHANANH_SMS_ID_POINTER", "/SMSID"),
            ("PHANANH_SMS_SUCCESS_POINTER", "/CodeResult"),
            ("PHANANH_SMS_SUCCESS_VALUE", "100"),
        ]))
        .unwrap();
        assert_eq!(
            c.fields("+84912345678", "Phan anh PA-1 da duoc tiep nhan"),
            vec![
                ("Phone".to_string(), "0912345678".to_string()),
                ("Content".into(), "Phan anh PA-1 da duoc tiep nhan".into()),
                ("Brandname".into(), "UBND LAICHAU".into()),
                ("SmsType".into(), "2".into()),
                ("ApiKey".into(), "k-123".into()),
            ]
        );
        assert!(!format!("{c:?}").contains("k-123"), "no key in logs");
    }

    #[test]
    fn a_gateway_without_url_sender_or_secret_is_refused() {
        assert!(HttpSmsConfig::from_env(env(&[("PHANANH_SMS_SENDER", "X")])).is_err());
        assert!(HttpSmsConfig::from_env(env(&[("PHANANH_SMS_URL", "https://x")])).is_err());
        assert!(HttpSmsConfig::from_env(env(&[
            ("PHANANH_SMS_URL", "https://x"),
            ("PHANANH_SMS_SENDER", "X"),
            ("PHANANH_SMS_USERNAME", "u"),
        ]))
        .is_err());
        assert!(HttpSmsConfig::from_env(env(&[
            ("PHANANH_SMS_URL", "ftp://x"),
            ("PHANANH_SMS_SENDER", "X"),
        ]))
        .is_err());
    }

    #[test]
    fn phone_numbers_are_written_as_the_provider_wants() {
        let mut c = HttpSmsConfig::new("http://x", "S");
        assert_eq!(c.phone("+84912345678"), "84912345678");
        c.phone_format = PhoneFormat::E164;
        assert_eq!(c.phone("+84912345678"), "+84912345678");
        c.phone_format = PhoneFormat::National;
        assert_eq!(c.phone("+84912345678"), "0912345678");
    }
}
