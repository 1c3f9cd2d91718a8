//! The published results as the public site lists them (Đ.8.1): every report whose result was
//! published, including those touching state secrets (Đ.8.2), which the caller renders through
//! [`crate::views::public_view`] and so shows only as their category and state. The API's
//! feed ([`App::public_feed`]) leaves them out entirely.

use super::{storage, App};
use crate::error::DomainError;
use crate::model::{Report, State};
use crate::ports::{Page, ReportQuery};

impl App {
    /// Published reports matching `q` (category, ward, period, cursor), newest first. A
    /// ward filter never lists a state-secret report: its ward is not public (Đ.8.2).
    pub async fn published_results(&self, mut q: ReportQuery) -> Result<Page<Report>, DomainError> {
        q.states = vec![State::Published, State::Closed];
        q.public_only = false;
        q.reporter = None;
        q.unit = None;
        q.text = None;
        q.overdue_at = None;
        let by_ward = q.ward.is_some();
        let mut page = self.store.query(&q).await.map_err(storage)?;
        page.items
            .retain(|r| r.state_is_public() && !(by_ward && r.flags.state_secret));
        Ok(page)
    }
}
