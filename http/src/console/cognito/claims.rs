//! Who a Cognito token says the person is: the pool's groups as the role, `custom:unit` as the
//! unit. One mapping, used by the console's sessions and by the API's authorizer claims.

use super::*;

// ------------------------------------------------------------------ identity mapping

/// Parses the groups claim as HTTP APIs pass it: `[a b]`, `a,b` or `["a","b"]`.
pub fn parse_groups(raw: &str) -> Vec<String> {
    raw.trim_matches(|c| c == '[' || c == ']')
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|g| g.trim_matches('"').to_string())
        .filter(|g| !g.is_empty())
        .collect()
}

/// The groups of a `cognito:groups` claim as it is in a token (a JSON array) or as API
/// Gateway passes it (a string).
pub fn groups_of(claim: Option<&Value>) -> Vec<String> {
    match claim {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => parse_groups(s),
        _ => Vec::new(),
    }
}

/// The one mapping from Cognito identities to actors (the console's ID tokens and the API's
/// JWT authorizer claims): the user's id (`cognito:username`, else `sub`) → id, the most specific staff role among `cognito:groups`
/// (no group: a citizen), `custom:unit` → unit, required for unit roles.
pub fn actor_from_claims(
    sub: Option<&str>,
    groups: &[String],
    unit: Option<&str>,
) -> Result<Actor, Problem> {
    let sub = sub
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Problem::unauthorized("Thiếu định danh người dùng trong mã đăng nhập."))?;
    let role = groups
        .iter()
        .filter_map(|g| Role::parse(g))
        .filter(|r| *r != Role::System)
        .max_by_key(|r| match r {
            Role::Citizen => 0,
            _ => 1,
        })
        .unwrap_or(Role::Citizen);
    let unit = unit.filter(|u| !u.is_empty()).map(str::to_string);
    if role.is_unit_role() && unit.is_none() {
        return Err(Problem::forbidden(
            "forbidden_unit",
            "Tài khoản cán bộ đơn vị chưa được gán đơn vị.",
        ));
    }
    Ok(Actor {
        id: sub.to_string(),
        role,
        unit,
    })
}
