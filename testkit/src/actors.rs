//! The usual actors of the regulation, one constructor each, with the Lai Châu default units.

use phananh_core::model::{Actor, Role};

/// A citizen with a device token.
pub fn citizen() -> Actor {
    Actor::new("citizen-1", Role::Citizen, None)
}

/// Another citizen (not the reporter).
pub fn other_citizen() -> Actor {
    Actor::new("citizen-2", Role::Citizen, None)
}

pub fn ioc_operator() -> Actor {
    Actor::new("ioc-op-1", Role::IocOperator, None)
}

pub fn ioc_head() -> Actor {
    Actor::new("ioc-head-1", Role::IocHead, None)
}

pub fn leader() -> Actor {
    Actor::new("leader-1", Role::Leader, None)
}

pub fn office() -> Actor {
    Actor::new("office-1", Role::OfficeAdmin, None)
}

/// An officer of `unit`.
pub fn unit_staff(unit: &str) -> Actor {
    Actor::new(format!("staff-{unit}"), Role::UnitStaff, Some(unit))
}

/// The head of `unit`.
pub fn unit_head(unit: &str) -> Actor {
    Actor::new(format!("head-{unit}"), Role::UnitHead, Some(unit))
}
