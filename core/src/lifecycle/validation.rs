//! Validation of the free text, units and categories an action carries. Each check names the
//! offending field, so the client can show the Vietnamese message next to it.

use crate::city::CityRules;
use crate::error::DomainError;
use crate::model::Attachment;

/// Maximum lengths of free text (characters).
pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 5000;
pub const MAX_NOTE: usize = 5000;
pub const MAX_ATTACHMENTS: usize = 20;
/// Attachments one report holds in all, over its whole life: the report document stays
/// bounded (issue 10: on DynamoDB the timeline moves out of an item that grows, attachments
/// stay in it; 200 records are about 50 KB).
pub const MAX_REPORT_ATTACHMENTS: usize = 200;

pub(super) fn required_text(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(field, "không được để trống"));
    }
    if v.chars().count() > max {
        return Err(DomainError::invalid(field, format!("dài quá {max} ký tự")));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(DomainError::invalid(field, "chứa ký tự điều khiển"));
    }
    Ok(v.to_string())
}

pub(super) fn optional_text(
    field: &str,
    value: &Option<String>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match value {
        Some(v) if !v.trim().is_empty() => required_text(field, v, max).map(Some),
        _ => Ok(None),
    }
}

pub(super) fn known_unit(rules: &CityRules, field: &str, unit: &str) -> Result<(), DomainError> {
    if rules.config.unit(unit).is_some() {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("đơn vị “{unit}” không tồn tại"),
        ))
    }
}

pub(super) fn known_category(
    rules: &CityRules,
    field: &str,
    code: &str,
) -> Result<(), DomainError> {
    if rules.config.category(code).is_some() {
        Ok(())
    } else {
        Err(DomainError::invalid(
            field,
            format!("lĩnh vực “{code}” không tồn tại"),
        ))
    }
}

pub(super) fn check_attachments(field: &str, list: &[Attachment]) -> Result<(), DomainError> {
    if list.len() > MAX_ATTACHMENTS {
        return Err(DomainError::invalid(
            field,
            format!("tối đa {MAX_ATTACHMENTS} tệp đính kèm"),
        ));
    }
    Ok(())
}

/// [`check_attachments`], and the report's attachments with the new ones stay within
/// [`MAX_REPORT_ATTACHMENTS`].
pub(super) fn check_added_attachments(
    field: &str,
    existing: &[Attachment],
    list: &[Attachment],
) -> Result<(), DomainError> {
    check_attachments(field, list)?;
    let new = list
        .iter()
        .filter(|a| !existing.iter().any(|x| x.id == a.id))
        .count();
    if existing.len() + new > MAX_REPORT_ATTACHMENTS {
        return Err(DomainError::invalid(
            field,
            format!(
                "phản ánh đã có {} tệp đính kèm, tối đa {MAX_REPORT_ATTACHMENTS}",
                existing.len()
            ),
        ));
    }
    Ok(())
}

/// Optional text on one line (a name): no line breaks or other control characters.
pub(super) fn optional_line(
    field: &str,
    value: &Option<String>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    let v = optional_text(field, value, max)?;
    if v.as_deref()
        .is_some_and(|v| v.chars().any(char::is_control))
    {
        return Err(DomainError::invalid(field, "phải nằm trên một dòng"));
    }
    Ok(v)
}

/// An optional contact (phone or e-mail), normalised by `parse` (see [`crate::contact`]).
pub(super) fn optional_contact(
    field: &str,
    value: &Option<String>,
    parse: fn(&str) -> Result<String, &'static str>,
) -> Result<Option<String>, DomainError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => parse(v)
            .map(Some)
            .map_err(|m| DomainError::invalid(field, m)),
    }
}
