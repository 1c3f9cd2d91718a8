//! The city config: the shipped Lai Châu default loads, and broken configs are refused with
//! messages that name the file, the key and the problem.

use chrono::NaiveDate;
use phananh_core::config::{
    self, ConfigErrors, Holiday, LocalPolicy, Routing, UnitKind, CONFIG_FILES,
};
use phananh_core::model::{ClockKind, EscalationLevel};
use phananh_core::CityRules;
use std::path::PathBuf;

fn default_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/laichau")
}

fn default_rules() -> CityRules {
    CityRules::laichau_default().expect("the shipped config is valid")
}

/// The shipped files as (name, text), to break one of them.
fn default_sources() -> Vec<(&'static str, String)> {
    CONFIG_FILES
        .iter()
        .map(|f| (*f, std::fs::read_to_string(default_dir().join(f)).unwrap()))
        .collect()
}

fn load_with(
    file: &str,
    edit: impl Fn(&str) -> String,
) -> Result<config::CityConfig, ConfigErrors> {
    let sources = default_sources();
    let edited: Vec<(&str, String)> = sources
        .iter()
        .map(|(n, t)| (*n, if *n == file { edit(t) } else { t.clone() }))
        .collect();
    let refs: Vec<(&str, &str)> = edited.iter().map(|(n, t)| (*n, t.as_str())).collect();
    config::from_sources(&refs)
}

fn lines(e: &ConfigErrors) -> Vec<String> {
    e.0.iter().map(|x| x.to_string()).collect()
}

#[test]
fn the_lai_chau_default_loads_and_validates() {
    let r = default_rules();
    let cfg = &r.config;
    assert_eq!(cfg.city.name, "Thành phố Lai Châu");
    assert_eq!(r.tz, chrono_tz::Asia::Ho_Chi_Minh);
    assert_eq!(cfg.categories.len(), 10);
    config::validate(cfg).unwrap();
    // The folder and the embedded copy are the same config.
    let from_dir = CityRules::load_dir(&default_dir()).unwrap();
    assert_eq!(
        serde_json::to_value(&from_dir.config).unwrap(),
        serde_json::to_value(cfg).unwrap()
    );

    // Escalation ladder: unit head at 75 %, IOC at 100 %, leadership at 150 %.
    let ladder: Vec<(f64, EscalationLevel)> = cfg
        .city
        .escalation
        .iter()
        .map(|e| (e.fraction, e.level))
        .collect();
    assert_eq!(
        ladder,
        vec![
            (0.75, EscalationLevel::UnitHead),
            (1.0, EscalationLevel::Ioc),
            (1.5, EscalationLevel::Leadership)
        ]
    );
    // Đ.7.2: the IOC head triages; nothing is auto-assigned by default.
    assert_eq!(cfg.city.auto_assign_min_confidence, 0.0);
    assert!(!cfg.city.sms_diacritics);
}

/// Đ.7.4: lead units and coordination as the regulation names them.
#[test]
fn the_default_routes_as_the_regulation_says() {
    let cfg = default_rules().config;
    let unit = |u: &str| Routing::Unit { unit: u.into() };
    let expected = [
        ("service_attitude", unit("phong_noi_vu"), false), // Đ.7.4.a Phòng Nội vụ
        ("traffic_security", unit("cong_an_tp"), true),    // Đ.7.4.b Công an thành phố, xã, phường
        ("construction_order", Routing::Ward, false),      // Đ.7.4.c Chủ tịch UBND xã, phường
        ("market_prices", unit("phong_kinh_te"), false),   // Đ.7.4.d Phòng Kinh tế
        ("culture_tourism", unit("phong_vhtt"), false),    // Đ.7.4.e Phòng Văn hóa và Thông tin
        ("food_safety", unit("trung_tam_y_te"), true),     // Đ.7.4.g Trung tâm Y tế + xã, phường
        ("forest_protection", Routing::Office, false),     // local policy
        ("environment", unit("phong_tnmt"), true),         // Đ.7.4.h Phòng TN&MT + xã, phường
        ("urban_order", Routing::Ward, false),             // Đ.7.4.i Chủ tịch UBND phường xã
        ("other", Routing::Office, false),                 // Đ.7.4.k Văn phòng HĐND và UBND
    ];
    for (code, routing, with_ward) in expected {
        let c = cfg.category(code).unwrap();
        assert_eq!(c.routing, routing, "{code}");
        assert_eq!(c.coordinate_with_ward, with_ward, "{code}");
    }
    // The regulation's gap is filled by a documented local policy, and only there.
    let forest = cfg.category("forest_protection").unwrap();
    let note = &forest.policy.as_ref().unwrap().note;
    assert!(note.contains("LOCAL POLICY") && note.contains("not a rule of the regulation"));
    assert_eq!(
        cfg.categories.iter().filter(|c| c.policy.is_some()).count(),
        1
    );
    assert_eq!(
        cfg.category("service_attitude").unwrap().clock,
        Some(ClockKind::WorkingHours)
    );
    // Every ward has its People's Committee.
    for w in [
        "tan_phong",
        "doan_ket",
        "quyet_thang",
        "quyet_tien",
        "dong_phong",
        "san_thang",
        "nam_loong",
    ] {
        let u = cfg.unit(&format!("ubnd_{w}")).unwrap();
        assert_eq!(u.kind, UnitKind::Ward);
        assert_eq!(u.ward.as_deref(), Some(w));
    }
}

/// Đ.6.3: every out-of-scope kind has guidance; notification texts carry their placeholders.
#[test]
fn the_default_messages_guide_and_notify() {
    let m = default_rules().config.messages;
    assert!(m.texts["guidance.complaint"].contains("Ban Tiếp công dân"));
    assert!(m.texts["guidance.legal_advice"].contains("Phòng Tư pháp"));
    let sms = m.render(
        "notify.assigned.sms",
        &[
            ("report_id", "PA-1"),
            ("category", "Môi trường"),
            ("due", "16:30 30/11/2026"),
        ],
    );
    assert_eq!(
        sms,
        "Phản ánh PA-1 (Môi trường) được giao cho đơn vị, hạn xử lý 16:30 30/11/2026."
    );
}

/// The three problems of the brief, all reported at once with file, key and problem.
#[test]
fn a_broken_config_is_refused_with_precise_messages() {
    let mut cfg = default_rules().config;
    cfg.categories[3].routing = Routing::Unit {
        unit: "phong_xyz".into(),
    };
    let tet = cfg.calendar.years["2026"].holidays[1].name.clone();
    cfg.calendar
        .years
        .get_mut("2026")
        .unwrap()
        .holidays
        .push(Holiday {
            name: "Nghỉ thêm".into(),
            from: NaiveDate::from_ymd_opt(2026, 2, 20).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 2, 25).unwrap(),
        });
    let other = cfg
        .categories
        .iter_mut()
        .find(|c| c.code == "other")
        .unwrap();
    other.deadline_hours = None;
    other.clock = None;

    let err = config::validate(&cfg).unwrap_err();
    assert_eq!(
        lines(&err),
        vec![
            "categories.toml: category[3].routing.unit: unknown unit \"phong_xyz\"".to_string(),
            "categories.toml: category[9].deadline_hours: category \"other\" has no deadline (deadline_hours + clock) and no documented policy".to_string(),
            format!("calendar.toml: years.2026.holidays[5]: holiday \"Nghỉ thêm\" (2026-02-20..2026-02-25) overlaps holiday \"{tet}\" (years.2026.holidays[1])"),
        ]
    );
    // Rules refuse it too, and the display lists one problem per line.
    let shown = CityRules::from_config(cfg).unwrap_err().to_string();
    assert_eq!(shown.lines().count(), 3);
}

/// A category without a deadline is accepted only with a documented local policy.
#[test]
fn a_policy_may_stand_in_for_a_deadline() {
    let mut cfg = default_rules().config;
    let other = cfg
        .categories
        .iter_mut()
        .find(|c| c.code == "other")
        .unwrap();
    other.deadline_hours = None;
    other.clock = None;
    other.policy = Some(LocalPolicy {
        note: "Local policy: the office sets a deadline per report.".into(),
    });
    let r = CityRules::from_config(cfg).unwrap();
    assert_eq!(r.deadline("other"), None);
}

#[test]
fn many_problems_are_collected_at_once() {
    let mut cfg = default_rules().config;
    cfg.city.time_zone = "Asia/Lai_Chau".into();
    cfg.city.escalation[1].fraction = 0.5;
    cfg.city.office_unit = "ioc".into();
    cfg.categories[0].deadline_hours = Some(0.0);
    cfg.categories[1].code = "service_attitude".into();
    cfg.categories[2].coordinating_units = vec!["ubnd_muong_so".into()];
    cfg.units[1].id = cfg.units[0].id.clone();
    cfg.wards[0].boundary.truncate(2);
    cfg.wards[1].boundary[0] = [203.4, 22.4];
    cfg.wards[2].unit = "ubnd_xyz".into();
    cfg.messages.texts.remove("guidance.legal_advice");
    cfg.screening
        .category_keywords
        .insert("weather".into(), vec!["mưa".into()]);
    cfg.calendar.weekly.days.insert(
        "mon".into(),
        vec!["7h30-11h30".into(), "13:30-12:00".into()],
    );
    cfg.calendar.years.get_mut("2027").unwrap().makeup_days =
        vec![NaiveDate::from_ymd_opt(2026, 1, 10).unwrap()];

    let err = config::validate(&cfg).unwrap_err();
    let shown = lines(&err);
    let expect = [
        "city.toml: time_zone: unknown time zone \"Asia/Lai_Chau\"",
        "city.toml: office_unit: unit \"ioc\" is of kind Ioc, expected Office",
        "city.toml: escalation[1].fraction: fractions must be strictly increasing: 0.5 after 0.75",
        "categories.toml: category[0].deadline_hours: deadline must be > 0 hours, got 0",
        "categories.toml: category[1].code: duplicate category code \"service_attitude\"",
        "categories.toml: category[2].coordinating_units[0]: unknown unit \"ubnd_muong_so\"",
        "units.toml: unit[1].id: duplicate unit id \"phong_noi_vu\"",
        "wards.toml: ward[0].boundary: a boundary needs at least 3 distinct points, got 2",
        "wards.toml: ward[1].boundary[0]: longitude 203.4 out of range -180..180 (pairs are [lon, lat])",
        "wards.toml: ward[2].unit: unknown unit \"ubnd_xyz\"",
        "messages.toml: guidance.legal_advice: missing message",
        "screening.toml: category_keywords.weather: unknown category \"weather\"",
        "calendar.toml: weekly.days.mon[0]: bad period \"7h30-11h30\": bad start time \"7h30\"",
        "calendar.toml: weekly.days.mon[1]: bad period \"13:30-12:00\": end must be after start",
        "calendar.toml: years.2027.makeup_days[0]: make-up day 2026-01-10 is not in 2027",
    ];
    for e in expect {
        assert!(
            shown.iter().any(|s| s == e),
            "missing {e:?} in\n{}",
            shown.join("\n")
        );
    }
    // The city's time zone problem is reported, and so is the mismatch with calendar.toml.
    assert!(err.mentions("calendar.toml: time_zone: \"Asia/Ho_Chi_Minh\" differs from city.toml"));
    // A guidance key of the screening rules that has no text is named too.
    assert!(err.mentions("screening.toml: out_of_scope["));
    assert!(err.mentions(
        ".guidance_key: message \"guidance.legal_advice\" is missing from messages.toml"
    ));
}

#[test]
fn ward_routing_needs_wards() {
    let mut cfg = default_rules().config;
    cfg.wards.clear();
    for u in cfg.units.iter_mut() {
        u.ward = None;
        if u.kind == UnitKind::Ward {
            u.kind = UnitKind::Department;
        }
    }
    let err = config::validate(&cfg).unwrap_err();
    let i = cfg
        .categories
        .iter()
        .position(|c| c.code == "construction_order")
        .unwrap();
    assert!(
        lines(&err).contains(&format!(
            "categories.toml: category[{i}].routing: ward routing needs wards, but wards.toml configures none"
        )),
        "{err}"
    );
}

/// A typo in a file names the file, the line and what is wrong.
#[test]
fn toml_errors_name_file_and_line() {
    let err = load_with("categories.toml", |t| {
        t.replacen("deadline_hours = 8", "deadline_hour = 8", 1)
    })
    .unwrap_err();
    let line = default_sources()
        .iter()
        .find(|(n, _)| *n == "categories.toml")
        .unwrap()
        .1
        .lines()
        .position(|l| l == "deadline_hours = 8")
        .unwrap()
        + 1;
    assert_eq!(err.0.len(), 1, "{err}");
    let e = &err.0[0];
    assert_eq!(e.file, "categories.toml");
    assert_eq!(
        e.key,
        format!("line {line}, column 1 (`deadline_hour = 8`)")
    );
    assert!(
        e.problem.starts_with("unknown field `deadline_hour`"),
        "{}",
        e.problem
    );

    let err = load_with("city.toml", |t| {
        t.replace(
            "duplicate_window_hours = 72",
            "duplicate_window_hours = \"72\"",
        )
    })
    .unwrap_err();
    assert!(err.mentions("city.toml: line "), "{err}");
    assert!(
        err.mentions("invalid type: string \"72\", expected u32"),
        "{err}"
    );

    let err = load_with("messages.toml", |t| format!("{t}\n[extra]\ncount = 3\n")).unwrap_err();
    assert_eq!(
        lines(&err),
        vec!["messages.toml: extra.count: expected a text, found a integer"]
    );
}

#[test]
fn missing_and_unknown_files_are_named() {
    let sources = default_sources();
    let refs: Vec<(&str, &str)> = sources
        .iter()
        .filter(|(n, _)| *n != "wards.toml")
        .map(|(n, t)| (*n, t.as_str()))
        .chain([("holidays.toml", "")])
        .collect();
    let err = config::from_sources(&refs).unwrap_err();
    assert_eq!(
        lines(&err),
        vec![
            "holidays.toml: -: unexpected config file (expected one of: city.toml, categories.toml, units.toml, wards.toml, calendar.toml, messages.toml, screening.toml)",
            "wards.toml: -: missing config file",
        ]
    );

    let dir = std::env::temp_dir().join(format!("phananh-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (n, t) in &sources {
        if *n != "calendar.toml" {
            std::fs::write(dir.join(n), t).unwrap();
        }
    }
    let err = CityRules::load_dir(&dir).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].file, "calendar.toml");
    assert!(err.0[0].problem.starts_with("cannot read "), "{err}");
}

/// A template with a placeholder the notification code does not fill would reach people as
/// "{unit}": refused.
#[test]
fn unknown_placeholders_are_refused() {
    let mut cfg = default_rules().config;
    cfg.messages.texts.insert(
        "notify.urged.sms".into(),
        "Đôn đốc {unit} xử lý phản ánh {report_id}".into(),
    );
    cfg.messages.texts.insert(
        "notify.urged.email_subject".into(),
        "Phản ánh {report_id".into(),
    );
    let err = config::validate(&cfg).unwrap_err();
    assert_eq!(
        lines(&err),
        vec![
            "messages.toml: notify.urged.email_subject: unbalanced \"{\"",
            "messages.toml: notify.urged.sms: unknown placeholder {unit} (known: {report_id}, {title}, {category}, {due}, {expected_date}, {target_date}, {reason}, {code}, {minutes})",
        ]
    );
}

/// Đ.8.2: the neutral text that stands for a secret report's title may not give it away (no
/// placeholder) nor be empty; without it the built-in default stands.
#[test]
fn the_secret_title_is_neutral_and_optional() {
    let mut cfg = default_rules().config;
    assert!(cfg.messages.texts.contains_key("secret.title"));
    cfg.messages
        .texts
        .insert("secret.title".into(), "Mật: {title}".into());
    let err = config::validate(&cfg).unwrap_err();
    assert_eq!(
        lines(&err),
        vec!["messages.toml: secret.title: no placeholder allowed: it stands for a secret report's title"]
    );
    cfg.messages.texts.insert("secret.title".into(), " ".into());
    let err = config::validate(&cfg).unwrap_err();
    assert_eq!(
        lines(&err),
        vec!["messages.toml: secret.title: empty message"]
    );
    cfg.messages.texts.remove("secret.title");
    assert!(config::validate(&cfg).is_ok(), "optional, with a default");
}

/// Đ.8.2 (issue 12 item 6): the alert that a report may be secret never carries its title, in
/// any channel; it is required like every notification's texts.
#[test]
fn the_possibly_secret_alert_carries_no_title() {
    let mut cfg = default_rules().config;
    for ch in ["sms", "email_subject", "email_body"] {
        let key = format!("notify.secret_flagged.{ch}");
        let text = cfg.messages.texts.get(&key).cloned().expect("bundled text");
        assert!(!text.contains("{title}"), "{key}");
        cfg.messages
            .texts
            .insert(key.clone(), format!("{text} {{title}}"));
        let err = config::validate(&cfg).unwrap_err();
        assert_eq!(
            lines(&err),
            vec![format!(
                "messages.toml: {key}: no {{title}}: the report may be secret (Đ.8.2)"
            )]
        );
        cfg.messages.texts.remove(&key);
        let err = config::validate(&cfg).unwrap_err();
        assert_eq!(
            lines(&err),
            vec![format!("messages.toml: {key}: missing message")]
        );
        cfg.messages.texts.insert(key, text);
    }
    assert!(config::validate(&cfg).is_ok());
}
