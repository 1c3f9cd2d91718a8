//! Sending a report from the site (Đ.7.1 through the web): the form with the configured
//! categories and their descriptions, live hints while typing (Đ.6.3 out of scope, Đ.3.1.c
//! abusive language, both from core's screening), the location by GPS or a tap on the map, the
//! upload slots for photos, audio and video, the optional name and contact with how they are
//! protected (Đ.4), and the submission through core's `App::submit` with an idempotency key,
//! so a double tap or a retry after a dropped connection makes one report.
//!
//! A refused submission shows the form again with everything typed and the Vietnamese message
//! next to the field; nothing is stored.

use super::i18n::{t, Lang};
use super::SiteCtx;
use crate::extract::parse_json;
use crate::problem::Problem;
use crate::HttpState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use phananh_core::app::UPLOAD_TYPES;
use phananh_core::config::CityConfig;
use phananh_core::ids::IdempotencyKey;
use phananh_core::lifecycle::{NewReport, MAX_ATTACHMENTS, MAX_TEXT, MAX_TITLE};
use phananh_core::model::{GeoPoint, Reporter};
use phananh_core::{screening, DomainError};
use serde::Deserialize;
use serde_json::json;

/// What the form sends (and what it shows again after an error).
#[derive(Debug, Default, Deserialize)]
pub struct FormData {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    ward: String,
    /// Upload ids, comma-separated (filled by the script as files finish uploading).
    #[serde(default)]
    attachments: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
}

/// Why a submission was refused: messages by form field, a message over the form, the Đ.6.3
/// guidance.
#[derive(Debug, Default)]
struct Errors {
    fields: Vec<(&'static str, String)>,
    top: Option<String>,
    scope: Option<String>,
}

impl Errors {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| *f == name)
            .map(|(_, m)| m.as_str())
    }
    fn any(&self) -> bool {
        !self.fields.is_empty() || self.top.is_some() || self.scope.is_some()
    }
}

/// The form field a core field name belongs to.
fn form_field(core_field: &str) -> &'static str {
    match core_field {
        "category" => "category",
        "title" => "title",
        "description" => "description",
        "location" | "lat" | "lon" => "location",
        "address" => "address",
        "attachments" => "attachments",
        "reporter.name" => "name",
        "reporter.phone" | "phone" => "phone",
        "reporter.email" | "email" => "email",
        _ => "",
    }
}

fn new_key() -> String {
    format!("web-{}", uuid::Uuid::new_v4())
}

/// GET /report: the empty form (and the visitor cookie uploads are bound to).
pub async fn form(State(s): State<HttpState>, mut ctx: SiteCtx) -> Response {
    ctx.actor_or_new(s.app.now());
    let data = FormData {
        key: new_key(),
        ..Default::default()
    };
    let body = form_page(&ctx, &s.app.rules().config, &data, &Errors::default());
    ctx.page(t(ctx.lang, "form.title"), "/report", body)
}

/// POST /report: submit through core; on success to the tracking page (which shows the link
/// and the code), else the form again with what was typed.
pub async fn submit(
    State(s): State<HttpState>,
    mut ctx: SiteCtx,
    Form(mut f): Form<FormData>,
) -> Response {
    let lang = ctx.lang;
    let cfg = &s.app.rules().config;
    if ctx.check_csrf(Some(&f.csrf)).is_err() {
        let errors = Errors {
            top: Some(t(lang, "form.csrf").to_string()),
            ..Default::default()
        };
        return again(&ctx, cfg, &f, &errors, StatusCode::FORBIDDEN);
    }
    let actor = ctx.actor_or_new(s.app.now());
    let key = match IdempotencyKey::parse(&f.key) {
        Ok(k) => k,
        Err(_) => {
            f.key = new_key();
            match IdempotencyKey::parse(&f.key) {
                Ok(k) => k,
                Err(e) => return ctx.failure(&e),
            }
        }
    };
    let location = match GeoPoint::parse_pair(("lat", Some(&f.lat)), ("lon", Some(&f.lon))) {
        Ok(p) => p,
        Err(e) => return refused(&ctx, cfg, &f, e),
    };
    let opt = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let reporter = (opt(&f.name).is_some() || opt(&f.phone).is_some() || opt(&f.email).is_some())
        .then(|| Reporter {
            citizen_id: String::new(),
            name: opt(&f.name),
            phone: opt(&f.phone),
            email: opt(&f.email),
        });
    let attachments: Vec<String> = f
        .attachments
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    let input = NewReport {
        category: f.category.clone(),
        title: f.title.clone(),
        description: f.description.clone(),
        location,
        address: opt(&f.address),
        reporter_ward: opt(&f.ward),
        attachments: Vec::new(),
        reporter,
        camera_id: None,
    };
    match s.app.submit(&actor, input, &attachments, Some(&key)).await {
        Ok((r, created)) => {
            let token = super::keys::key().token(&r.id);
            let again = if created { "" } else { "&again=1" };
            let to = format!("/track/{}/{token}?sent=1{again}", r.id);
            let mut resp = (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
            for c in ctx.cookies {
                resp.headers_mut().append(header::SET_COOKIE, c);
            }
            resp
        }
        Err(DomainError::IdempotencyKeyReused) => {
            f.key = new_key();
            let errors = Errors {
                top: Some(t(lang, "form.key_reused").to_string()),
                ..Default::default()
            };
            again(&ctx, cfg, &f, &errors, StatusCode::CONFLICT)
        }
        Err(e) => refused(&ctx, cfg, &f, e),
    }
}

/// The form again after core refused the submission.
fn refused(ctx: &SiteCtx, cfg: &CityConfig, f: &FormData, e: DomainError) -> Response {
    let mut errors = Errors::default();
    match e {
        DomainError::Invalid { field, message } => {
            let name = form_field(&field);
            if name.is_empty() {
                errors.top = Some(message);
            } else {
                errors.fields.push((name, message));
            }
        }
        DomainError::OutOfScope { guidance, .. } => errors.scope = Some(guidance),
        DomainError::Storage(_) => return ctx.failure(&e),
        other => errors.top = Some(other.message_vi()),
    }
    again(ctx, cfg, f, &errors, StatusCode::UNPROCESSABLE_ENTITY)
}

fn again(
    ctx: &SiteCtx,
    cfg: &CityConfig,
    f: &FormData,
    errors: &Errors,
    status: StatusCode,
) -> Response {
    let mut r = ctx.page(
        t(ctx.lang, "form.title"),
        "/report",
        form_page(ctx, cfg, f, errors),
    );
    *r.status_mut() = status;
    r
}

/// The centre of the city's wards (where the pick-a-place map opens), else Viet Nam's.
fn city_centre(cfg: &CityConfig) -> (f64, f64) {
    let points: Vec<&[f64; 2]> = cfg.wards.iter().flat_map(|w| w.boundary.iter()).collect();
    if points.is_empty() {
        return (16.0, 106.0);
    }
    let n = points.len() as f64;
    let lat = points.iter().map(|p| p[1]).sum::<f64>() / n;
    let lon = points.iter().map(|p| p[0]).sum::<f64>() / n;
    (lat, lon)
}

/// An input's error line (id `<name>-error`), if any.
fn error_line(errors: &Errors, name: &str) -> Markup {
    html! {
        @if let Some(m) = errors.field(name) {
            p.field-error id=(format!("{name}-error")) { (m) }
        }
    }
}

fn described_by(errors: &Errors, name: &str, help: Option<&str>) -> Option<String> {
    let mut ids: Vec<String> = help.map(str::to_string).into_iter().collect();
    if errors.field(name).is_some() {
        ids.push(format!("{name}-error"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

fn invalid(errors: &Errors, name: &str) -> Option<&'static str> {
    errors.field(name).map(|_| "true")
}

fn form_page(ctx: &SiteCtx, cfg: &CityConfig, f: &FormData, errors: &Errors) -> Markup {
    let lang = ctx.lang;
    let (lat0, lon0) = city_centre(cfg);
    let accept: Vec<&str> = UPLOAD_TYPES.iter().map(|(t, _)| *t).collect();
    let located = !f.lat.trim().is_empty() && !f.lon.trim().is_empty();
    html! {
        h1 { (t(lang, "form.title")) }
        p.intro { (t(lang, "form.intro")) }
        @if errors.any() {
            div.alert role="alert" {
                p { strong { (t(lang, "form.errors")) } }
                @if let Some(m) = &errors.top { p { (m) } }
            }
        }
        form #report-form method="post" action="/report" data-hints-url="/report/hints" {
            input type="hidden" name="_csrf" value=(ctx.csrf);
            input type="hidden" name="key" value=(f.key);
            input #attachments type="hidden" name="attachments" value=(f.attachments);
            input #lat type="hidden" name="lat" value=(f.lat);
            input #lon type="hidden" name="lon" value=(f.lon);

            div.field {
                label for="category" { (t(lang, "form.category")) }
                select #category name="category" required aria-describedby=[described_by(errors, "category", Some("category-help"))] aria-invalid=[invalid(errors, "category")] {
                    option value="" { (t(lang, "form.category_choose")) }
                    @for c in &cfg.categories {
                        option value=(c.code) selected[f.category == c.code] { (c.name) }
                    }
                }
                p.help id="category-help" { (t(lang, "form.category_help")) }
                (error_line(errors, "category"))
                details.categories {
                    summary { (t(lang, "form.categories_list")) }
                    dl {
                        @for c in &cfg.categories {
                            dt { (c.name) }
                            dd { (c.description) }
                        }
                    }
                }
            }
            div.field {
                label for="title" { (t(lang, "form.subject")) }
                input #title type="text" name="title" required maxlength=(MAX_TITLE) value=(f.title) aria-invalid=[invalid(errors, "title")] aria-describedby=[described_by(errors, "title", None)];
                (error_line(errors, "title"))
            }
            div.field {
                label for="description" { (t(lang, "form.description")) }
                textarea #description name="description" rows="6" required maxlength=(MAX_TEXT) aria-invalid=[invalid(errors, "description")] aria-describedby=[described_by(errors, "description", Some("description-help"))] { (f.description) }
                p.help id="description-help" { (t(lang, "form.description_help")) }
                (error_line(errors, "description"))
            }
            div #hints aria-live="polite" {
                div #hint-scope .hint.scope role="alert" hidden[errors.scope.is_none()] {
                    p.hint-title { (t(lang, "form.out_of_scope")) }
                    @if lang == Lang::En { p.hint-en { (t(lang, "form.out_of_scope_en")) } }
                    p.hint-text lang="vi" { (errors.scope.as_deref().unwrap_or("")) }
                }
                div #hint-abuse .hint.abuse hidden {
                    p.hint-title { (t(lang, "form.abusive")) }
                    p.hint-text { (t(lang, "form.abusive_text")) }
                    p.hint-terms {}
                }
            }
            fieldset.field {
                legend { (t(lang, "form.location")) }
                div.js-only.buttons hidden {
                    button #gps type="button" { (t(lang, "form.gps")) }
                    button #pick-map type="button" data-lat=(lat0) data-lon=(lon0)
                        data-tiles=(cfg.city.map_tile_url) data-attribution=(cfg.city.map_attribution)
                        data-wards-url="/results/wards.json"
                        data-css=(crate::console::assets::url("leaflet-1.9.4.css"))
                        data-js=(crate::console::assets::url("leaflet-1.9.4.js")) {
                        (t(lang, "form.pick_map"))
                    }
                }
                div #pick-map-box hidden {
                    p.help { (t(lang, "form.map_help")) }
                    div #pick-map-canvas role="application" aria-label=(t(lang, "form.pick_map")) {}
                }
                p #location-status .status aria-live="polite" data-set=(t(lang, "form.location_set")) data-failed=(t(lang, "form.gps_failed")) {
                    @if located { (t(lang, "form.location_set")) ": " (f.lat) ", " (f.lon) }
                }
                (error_line(errors, "location"))
                label for="address" { (t(lang, "form.address")) }
                input #address type="text" name="address" maxlength="500" value=(f.address) autocomplete="street-address" aria-invalid=[invalid(errors, "address")];
                (error_line(errors, "address"))
                label for="ward" { (t(lang, "form.ward")) }
                select #ward name="ward" {
                    option value="" { (t(lang, "form.ward_unknown")) }
                    @for w in &cfg.wards {
                        option value=(w.id) selected[f.ward == w.id] { (w.name) }
                    }
                }
            }
            fieldset.field {
                legend { (t(lang, "form.media")) }
                div.file-pick.js-only hidden {
                input #files type="file" multiple accept=(accept.join(",")) data-slot-url="/report/uploads" data-max=(MAX_ATTACHMENTS)
                    data-t-uploading=(t(lang, "upload.uploading")) data-t-done=(t(lang, "upload.done"))
                    data-t-retrying=(t(lang, "upload.retrying")) data-t-failed=(t(lang, "upload.failed"))
                    data-t-retry=(t(lang, "upload.retry")) data-t-remove=(t(lang, "upload.remove"))
                    aria-describedby="files-help";
                label for="files" { (t(lang, "form.choose_files")) }
                }
                p.help id="files-help" { (t(lang, "form.media_help")) }
                ul #upload-list aria-live="polite" {}
                (error_line(errors, "attachments"))
            }
            fieldset.field.you {
                legend { (t(lang, "form.you")) }
                p.privacy id="privacy" { (t(lang, "form.privacy")) }
                label for="name" { (t(lang, "form.name")) }
                input #name type="text" name="name" maxlength="200" value=(f.name) autocomplete="name" aria-describedby="privacy" aria-invalid=[invalid(errors, "name")];
                (error_line(errors, "name"))
                label for="phone" { (t(lang, "form.phone")) }
                input #phone type="tel" name="phone" value=(f.phone) autocomplete="tel" inputmode="tel" aria-describedby=[described_by(errors, "phone", Some("privacy"))] aria-invalid=[invalid(errors, "phone")];
                (error_line(errors, "phone"))
                label for="email" { (t(lang, "form.email")) }
                input #email type="email" name="email" value=(f.email) autocomplete="email" aria-describedby=[described_by(errors, "email", Some("privacy"))] aria-invalid=[invalid(errors, "email")];
                (error_line(errors, "email"))
            }
            p #send-status .status aria-live="polite" data-wait=(t(lang, "form.wait_uploads")) {}
            button #send .primary type="submit" data-sending=(t(lang, "form.sending")) { (t(lang, "form.send")) }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HintsBody {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
}

/// POST /report/hints `{title, description}`: what core's screening says of the text so far
/// (Đ.6.3 out of scope, with the city's guidance; Đ.3.1.c abusive terms), in the page's
/// language. Reads nothing stored, changes nothing.
pub async fn hints(State(s): State<HttpState>, ctx: SiteCtx, body: Bytes) -> Response {
    let b: HintsBody = match parse_json(&body) {
        Ok(b) => b,
        Err(p) => return p.into_response(),
    };
    let cfg = &s.app.rules().config;
    let text = format!("{}\n{}", b.title, b.description);
    let scope = screening::out_of_scope(&cfg.screening, &text).map(|m| {
        json!({
            "code": m.code,
            "guidance": cfg.messages.render(&m.guidance_key, &[]),
        })
    });
    let abuse = screening::check_abusive(&cfg.screening, &text);
    axum::Json(json!({
        "lang": ctx.lang.code(),
        "out_of_scope": scope,
        "abusive_terms": abuse.terms,
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotBody {
    content_type: String,
    size: u64,
}

/// POST /report/uploads `{content_type, size}` (with `X-CSRF-Token`): an upload slot bound
/// to the visitor, from the same use case as the API's `/v1/uploads`.
pub async fn upload_slot(State(s): State<HttpState>, ctx: SiteCtx, body: Bytes) -> Response {
    if let Err(r) = ctx.check_csrf(None) {
        return r;
    }
    let Some(visitor) = &ctx.visitor else {
        return Problem::unauthorized("Hãy tải lại trang gửi phản ánh rồi thử lại.")
            .into_response();
    };
    let b: SlotBody = match parse_json(&body) {
        Ok(b) => b,
        Err(p) => return p.into_response(),
    };
    match s
        .app
        .request_upload(&visitor.actor(), &b.content_type, b.size)
        .await
    {
        Ok(t) => (StatusCode::CREATED, axum::Json(t)).into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}
