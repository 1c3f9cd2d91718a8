//! A submitted action form turned into core's `Command` JSON: comma lists and repeated fields
//! become arrays, empty optional fields are left out. Only the shape is made here; the rules
//! are core's.

use super::*;

// ---------------------------------------------------------------------------------------------
// Form → command JSON

/// List fields of core's commands: comma-separated ids or repeated fields → arrays.
pub(super) const LIST_FIELDS: [&str; 4] = [
    "coordinating_units",
    "evidence",
    "attachments",
    "public_attachments",
];

/// Fields a command may leave out: empty → absent. Other empty fields are sent empty, so core
/// answers with its own message for the field ("không được để trống").
pub(super) fn optional_field(action: &str, field: &str) -> bool {
    matches!(
        (action, field),
        (
            "assign" | "accept" | "resume" | "reclassify" | "close",
            "note"
        ) | (_, "suggested_category")
            | (_, "comment")
            | ("decide_deferral", "target_date")
    )
}

/// The form's fields as core's `Command` JSON: comma lists → arrays, empty optional fields →
/// absent, `stars` a number. Rules are core's: only the shape is made here.
pub(super) fn to_command(action: &str, values: &[(String, String)]) -> Result<Value, DomainError> {
    if action.is_empty() {
        return Err(DomainError::invalid("action", "chưa chọn thao tác"));
    }
    let mut m = Map::new();
    m.insert("action".into(), Value::String(action.to_string()));
    for (k, v) in values {
        if LIST_FIELDS.contains(&k.as_str()) {
            let entry = m
                .entry(k.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = entry {
                items.extend(
                    v.split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(|p| Value::String(p.to_string())),
                );
            }
            continue;
        }
        if v.trim().is_empty() && optional_field(action, k) {
            continue;
        }
        match k.as_str() {
            "stars" => {
                let n: u8 = v
                    .trim()
                    .parse()
                    .map_err(|_| DomainError::invalid("stars", "phải là một số từ 1 đến 5"))?;
                m.insert(k.clone(), Value::from(n));
            }
            // Đ.7.5: the decision is the button pressed.
            "accept" => {
                let yes = match v.trim() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(DomainError::invalid(
                            "accept",
                            "cần chọn chấp nhận hoặc không chấp nhận",
                        ))
                    }
                };
                m.insert(k.clone(), Value::Bool(yes));
            }
            "expected_date" | "target_date" => {
                let d = NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| {
                    DomainError::invalid(k, "cần chọn một ngày hợp lệ (năm-tháng-ngày)")
                })?;
                m.insert(k.clone(), Value::String(d.format("%Y-%m-%d").to_string()));
            }
            _ => {
                m.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::super::*;

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn forms_become_core_commands() {
        let c = to_command(
            "assign",
            &kv(&[
                ("lead_unit", "phong_tnmt"),
                ("coordinating_units", "a"),
                ("coordinating_units", "b, c"),
                ("note", ""),
            ]),
        )
        .unwrap();
        assert_eq!(
            c,
            serde_json::json!({"action": "assign", "lead_unit": "phong_tnmt", "coordinating_units": ["a", "b", "c"]})
        );
        let c = to_command("resolve", &kv(&[("summary", "xong"), ("evidence", "")])).unwrap();
        assert_eq!(
            c,
            serde_json::json!({"action": "resolve", "summary": "xong", "evidence": []})
        );
        let c = to_command("refer", &kv(&[("note", "")])).unwrap();
        assert_eq!(
            c,
            serde_json::json!({"action": "refer", "note": ""}),
            "required: core says why"
        );
        let c = to_command("rate", &kv(&[("stars", "4"), ("comment", "")])).unwrap();
        assert_eq!(c, serde_json::json!({"action": "rate", "stars": 4}));
        assert!(matches!(
            to_command("defer", &kv(&[("reason", "x"), ("expected_date", "mai")])),
            Err(DomainError::Invalid { field, .. }) if field == "expected_date"
        ));
    }
}
