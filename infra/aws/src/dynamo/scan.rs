//! A paged Scan of the report items (the operator's jobs of `crate::ops`: sealing reporter
//! data written before encryption at rest). It reads the base table, not an index, so an
//! item missing an index attribute is not skipped.

use super::codec::s;
use super::{sdk_err, DynamoReportStore};
use crate::table::{PK, SK};
use aws_sdk_dynamodb::types::AttributeValue;
use phananh_core::model::ReportId;
use phananh_core::ports::StoreError;
use std::collections::HashMap;

/// Where the next page of a scan starts (DynamoDB's `LastEvaluatedKey`).
pub type ScanStart = HashMap<String, AttributeValue>;

impl DynamoReportStore {
    /// One page of report ids, at most `limit` items examined; the start of the next page,
    /// None at the end of the table.
    pub async fn scan_report_ids(
        &self,
        start: Option<ScanStart>,
        limit: i32,
    ) -> Result<(Vec<ReportId>, Option<ScanStart>), StoreError> {
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("begins_with(#pk, :p) AND #sk = :sk")
            .projection_expression("#pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":p", s("REPORT#"))
            .expression_attribute_values(":sk", s("REPORT"))
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_err)?;
        let ids = out
            .items()
            .iter()
            .filter_map(|i| i.get(PK).and_then(|v| v.as_s().ok()))
            .filter_map(|pk| pk.strip_prefix("REPORT#"))
            .map(|id| ReportId(id.to_string()))
            .collect();
        Ok((ids, out.last_evaluated_key))
    }
}
