//! Who acts on a report: roles and the actor performing an action.

use super::UnitId;
use serde::{Deserialize, Serialize};

/// Roles of docs/domain.md (Đ.1.2, Đ.4, Đ.7, Đ.9). `System` is the software itself
/// (screening, routing, escalation timers) and never comes from a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    IocOperator,
    IocHead,
    UnitStaff,
    UnitHead,
    Leader,
    OfficeAdmin,
    System,
}

impl Role {
    pub const STAFF: [Role; 6] = [
        Role::IocOperator,
        Role::IocHead,
        Role::UnitStaff,
        Role::UnitHead,
        Role::Leader,
        Role::OfficeAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::IocOperator => "ioc_operator",
            Role::IocHead => "ioc_head",
            Role::UnitStaff => "unit_staff",
            Role::UnitHead => "unit_head",
            Role::Leader => "leader",
            Role::OfficeAdmin => "office_admin",
            Role::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "citizen" => Role::Citizen,
            "ioc_operator" => Role::IocOperator,
            "ioc_head" => Role::IocHead,
            "unit_staff" => Role::UnitStaff,
            "unit_head" => Role::UnitHead,
            "leader" => Role::Leader,
            "office_admin" => Role::OfficeAdmin,
            _ => return None,
        })
    }

    /// Roles bound to one unit: they see only what is assigned to it.
    pub fn is_unit_role(self) -> bool {
        matches!(self, Role::UnitStaff | Role::UnitHead)
    }

    pub fn is_staff(self) -> bool {
        Role::STAFF.contains(&self)
    }
}

/// Who performs an action. For citizens `id` is the stable citizen id (account or device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitId>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            id: "system".into(),
            role: Role::System,
            unit: None,
        }
    }
    pub fn new(id: impl Into<String>, role: Role, unit: Option<&str>) -> Actor {
        Actor {
            id: id.into(),
            role,
            unit: unit.map(str::to_string),
        }
    }
}
