//! What each Lambda function's code calls, as IAM actions on the stack's resources: the one
//! table `template.yaml`'s policies are checked against in both directions (a call without a
//! grant fails on a real account with AccessDenied, which no emulator reports; a grant nothing
//! uses is a wider blast radius for nothing). `infra/aws/tests/iam.rs` does the check, and
//! also that every SDK operation the adapters call is in this table.
//!
//! IAM names differ from API names: `TransactWriteItems` needs the action of each item
//! (`PutItem`, `DeleteItem`, `UpdateItem`); SNS `PublishBatch` needs `sns:Publish`; S3 `HeadObject` and
//! presigned GETs need `s3:GetObject`, presigned PUTs `s3:PutObject`; `HeadObject` on a
//! missing key answers 404 only with `s3:ListBucket` on the bucket (403 otherwise, which
//! would turn "not uploaded yet" into a server error).
//!
//! Not listed: what the Lambda service itself does with the role (SQS polling, logs, X-Ray):
//! SAM attaches AWS-managed policies for those (`AWSLambdaSQSQueueExecutionRole`,
//! `AWSLambdaDynamoDBExecutionRole` for the relay's stream, the on-failure destination,
//! `AWSLambdaBasicExecutionRole`, `AWSXrayWriteOnlyAccess`).

/// A resource of the stack, as the template names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum On {
    /// `ReportsTable` (its items).
    Table,
    /// `ReportsTable`'s global secondary indexes.
    TableIndexes,
    /// The media bucket itself (listing).
    MediaBucket,
    /// The media bucket's objects.
    MediaObjects,
    /// The media bucket's `public/` objects: metadata-free copies and their thumbnails.
    PublicMediaObjects,
    EventsTopic,
    AlertsTopic,
    /// Direct SMS to phone numbers (anything that is not a topic or endpoint ARN).
    SmsNumbers,
    /// The Cognito staff pool.
    StaffPool,
    /// SES sending identities (the grant is conditioned on the configured sender address).
    SesIdentities,
    /// `AnchorBucket` itself (listing: a day not anchored yet answers 404, not 403).
    AnchorBucket,
    /// `AnchorBucket`'s objects: the daily audit anchors (Object Lock).
    AnchorObjects,
    /// `PiiKey`, the KMS key wrapping the personal-data key.
    PiiKey,
}

/// One IAM action a function needs on one resource, and the code that needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Need {
    pub action: &'static str,
    pub on: On,
    pub because: &'static str,
}

const fn need(action: &'static str, on: On, because: &'static str) -> Need {
    Need {
        action,
        on,
        because,
    }
}

/// Reading reports: `get` (and the idempotency key of a repeated submission), queries.
const READ_REPORTS: &[Need] = &[
    need(
        "dynamodb:GetItem",
        On::Table,
        "ReportStore::get, idempotency item, accounts by id",
    ),
    ARCHIVED_TIMELINE,
    need(
        "dynamodb:BatchGetItem",
        On::Table,
        "ReportStore::query and escalations_due: the reports of an index page (the indexes hold keys)",
    ),
    need(
        "dynamodb:Query",
        On::TableIndexes,
        "ReportStore::query, escalations_due, recent_points, recent_points_near (by_cell)",
    ),
];

/// `ReportStore::get` of a report with a long history: its archived timeline chunks
/// (`dynamo::archive`), so every function that reads a report needs it.
const ARCHIVED_TIMELINE: Need = need(
    "dynamodb:BatchGetItem",
    On::Table,
    "ReportStore::get: the archived timeline chunks of a long report",
);

/// A unit's lists (staff queues, the unit's overdue list): `by_unit` holds keys only, the
/// reports of a page are read in one `BatchGetItem`.
const LIST_BY_UNIT: &[Need] = &[need(
    "dynamodb:BatchGetItem",
    On::Table,
    "ReportStore::query by unit: the reports of the by_unit page",
)];

/// Changing reports: one transaction (report, memberships, event items, idempotency); the
/// table's stream carries the events to the relay, so writers publish nothing.
const WRITE_REPORTS: &[Need] = &[
    need(
        "dynamodb:PutItem",
        On::Table,
        "TransactWriteItems puts: report, memberships, events, idempotency",
    ),
    need(
        "dynamodb:DeleteItem",
        On::Table,
        "TransactWriteItems deletes: memberships of units no longer involved",
    ),
];

/// Notifications: each one's delivery record in the table (claimed `pending` by a put, its
/// outcome recorded by an update), SMS by direct publish, e-mail through the alerts topic.
const NOTIFY: &[Need] = &[
    need(
        "dynamodb:PutItem",
        On::Table,
        "SnsNotifier claims NOTIF#<id> (one put, or one transaction for an event's messages), recorded pending",
    ),
    need(
        "dynamodb:UpdateItem",
        On::Table,
        "SnsNotifier records the outcome: message id or error (one update, or one transaction)",
    ),
    need("sns:Publish", On::SmsNumbers, "SnsNotifier: SMS"),
    need(
        "sns:Publish",
        On::AlertsTopic,
        "SnsNotifier: e-mail through the alerts topic",
    ),
];

/// The office's re-send of a dead letter (`DeliveryLog::resend`, staff API and console): the
/// record is read (`GetItem`, in READ_REPORTS), taken back and updated with the outcome, and
/// the message sent again on its channel. The log's reads are index queries (READ_REPORTS);
/// a page of the keys-only `deliveries` index is then read by `BatchGetItem` (LIST_BY_UNIT,
/// which every function that re-sends holds).
const RESEND: &[Need] = &[
    need(
        "dynamodb:UpdateItem",
        On::Table,
        "DeliveryLog::resend: takes the dead letter back, records the new outcome",
    ),
    need("sns:Publish", On::SmsNumbers, "DeliveryLog::resend: SMS"),
    need(
        "sns:Publish",
        On::AlertsTopic,
        "DeliveryLog::resend: e-mail through the alerts topic (no SES sender)",
    ),
];

/// E-mail to each person through SES (notify and publish, and the staff functions' re-send,
/// when `PHANANH_SES_FROM` is set).
const SEND_EMAIL: &[Need] = &[need(
    "ses:SendEmail",
    On::SesIdentities,
    "SesMailer: e-mail to each recipient (SESv2 SendEmail)",
)];

/// Reading the statistics' month items (`AggregateStore::months`: a query of the table's
/// `STATS` partition, not of an index).
const READ_STATS: &[Need] = &[need(
    "dynamodb:Query",
    On::Table,
    "DynamoAggregates::months (statistics, Đ.9.2)",
)];

/// Reading media: HEAD and GET of uploads, presigned GET URLs.
const READ_MEDIA: &[Need] = &[
    need(
        "s3:GetObject",
        On::MediaObjects,
        "MediaStore::head/read (HeadObject, GetObject), presign_get",
    ),
    need(
        "s3:ListBucket",
        On::MediaBucket,
        "HeadObject of a missing key answers 404, not 403",
    ),
];

/// Upload slots and the daily quota as table items (`DynamoSlots`): an API function issues
/// a slot in one transaction (the quota's update, the slot's put) and reads it back when
/// attaching; the media function reads it and writes its verdict.
const UPLOAD_SLOTS: &[Need] = &[
    need(
        "dynamodb:GetItem",
        On::Table,
        "DynamoSlots::get: the slot's verdict",
    ),
    need(
        "dynamodb:PutItem",
        On::Table,
        "DynamoSlots::issue (TransactWriteItems put of the slot), put (verdict, attached)",
    ),
    need(
        "dynamodb:UpdateItem",
        On::Table,
        "DynamoSlots::issue: TransactWriteItems update of the day's quota (ADD under a condition); record_verdict (an attach that checks a pending upload)",
    ),
];

/// Writing media: presigned POST policies, public copies, the permanent copy of an attachment (CopyObject = GetObject + PutObject),
/// and removing the upload once attached or refused.
const WRITE_MEDIA: &[Need] = &[
    need(
        "s3:PutObject",
        On::MediaObjects,
        "MediaStore::presign_post, write (public copies), copy (attaching)",
    ),
    need(
        "s3:DeleteObject",
        On::MediaObjects,
        "MediaStore::delete: an upload once attached, a refused file",
    ),
];

/// Staff accounts in the Cognito pool (`CognitoAccounts`).
const MANAGE_STAFF: &[Need] = &[
    need("cognito-idp:AdminCreateUser", On::StaffPool, "create"),
    need("cognito-idp:AdminGetUser", On::StaffPool, "account by id"),
    need(
        "cognito-idp:ListUsers",
        On::StaffPool,
        "account by login name",
    ),
    need("cognito-idp:ListUsersInGroup", On::StaffPool, "list"),
    need(
        "cognito-idp:AdminListGroupsForUser",
        On::StaffPool,
        "role of an account",
    ),
    need("cognito-idp:AdminAddUserToGroup", On::StaffPool, "role set"),
    need(
        "cognito-idp:AdminRemoveUserFromGroup",
        On::StaffPool,
        "role change",
    ),
    need(
        "cognito-idp:AdminUpdateUserAttributes",
        On::StaffPool,
        "login name, name, unit",
    ),
    need("cognito-idp:AdminDisableUser", On::StaffPool, "disable"),
    need("cognito-idp:AdminEnableUser", On::StaffPool, "enable"),
    need(
        "cognito-idp:AdminUserGlobalSignOut",
        On::StaffPool,
        "disable, reset, role change",
    ),
    need(
        "cognito-idp:AdminSetUserPassword",
        On::StaffPool,
        "temporary password",
    ),
    need(
        "cognito-idp:AdminSetUserMFAPreference",
        On::StaffPool,
        "second factor on (after a first code) and off (the office's reset)",
    ),
];

/// The daily audit anchors (`S3Anchors`, issue 12): read a day's anchor, write a missing one
/// locked in COMPLIANCE mode (a PutObject with a retention needs `s3:PutObjectRetention`).
const ANCHOR: &[Need] = &[
    need(
        "s3:GetObject",
        On::AnchorObjects,
        "S3Anchors::get (anchor_pending, verify_day)",
    ),
    need(
        "s3:ListBucket",
        On::AnchorBucket,
        "GetObject of a day not anchored yet answers 404, not 403",
    ),
    need("s3:PutObject", On::AnchorObjects, "S3Anchors::put"),
    need(
        "s3:PutObjectRetention",
        On::AnchorObjects,
        "S3Anchors::put: object_lock_mode + retain-until date",
    ),
];

/// A function (logical id in `template.yaml`) and what its code needs.
#[derive(Debug, Clone)]
pub struct FunctionNeeds {
    pub function: &'static str,
    pub needs: Vec<Need>,
}

/// Every function's cold start unwraps the personal-data key (`kms::unwrap_keyring`).
const PII_KEY: &[Need] = &[need(
    "kms:Decrypt",
    On::PiiKey,
    "cold start: unwraps PHANANH_PII_WRAPPED_KEYS",
)];

fn of(function: &'static str, parts: &[&[Need]]) -> FunctionNeeds {
    let mut needs: Vec<Need> = Vec::new();
    for n in parts.iter().chain([&PII_KEY]).flat_map(|p| p.iter()) {
        if !needs.iter().any(|m| m.action == n.action && m.on == n.on) {
            needs.push(*n);
        }
    }
    FunctionNeeds { function, needs }
}

/// Every function of the template and what its code calls.
pub fn function_needs() -> Vec<FunctionNeeds> {
    vec![
        // Public reads: the public feed and report, public attachments (presigned GET), and
        // a published photo's thumbnail made on its first request (issue 10).
        of(
            "ApiPublicFunction",
            &[
                READ_REPORTS,
                &[
                    need(
                        "s3:GetObject",
                        On::MediaObjects,
                        "presign_get of public attachments; ensure_thumbnail: HeadObject of the thumbnail, GetObject of the public copy",
                    ),
                    need(
                        "s3:ListBucket",
                        On::MediaBucket,
                        "ensure_thumbnail: HeadObject of a thumbnail not made yet answers 404, not 403",
                    ),
                    need(
                        "s3:PutObject",
                        On::PublicMediaObjects,
                        "ensure_thumbnail: the thumbnail, made on its first request",
                    ),
                ],
            ],
        ),
        // Citizens: sign-in codes (SMS or e-mail), intake with attachments, upload URLs, own
        // reports, rating and reopening.
        of(
            "ApiCitizenFunction",
            &[
                READ_REPORTS,
                WRITE_REPORTS,
                NOTIFY,
                READ_MEDIA,
                WRITE_MEDIA,
                UPLOAD_SLOTS,
            ],
        ),
        // Staff: queues, actions (resolve with evidence writes media), statistics, accounts.
        of(
            "ApiStaffFunction",
            &[
                READ_REPORTS,
                LIST_BY_UNIT,
                WRITE_REPORTS,
                READ_STATS,
                READ_MEDIA,
                WRITE_MEDIA,
                UPLOAD_SLOTS,
                MANAGE_STAFF,
                RESEND,
                SEND_EMAIL,
            ],
        ),
        of(
            "ApiConsoleFunction",
            &[
                READ_REPORTS,
                LIST_BY_UNIT,
                WRITE_REPORTS,
                READ_STATS,
                READ_MEDIA,
                WRITE_MEDIA,
                UPLOAD_SLOTS,
                MANAGE_STAFF,
                RESEND,
                SEND_EMAIL,
            ],
        ),
        // The upload check: reads the object (one ranged GET: its type, size limit and first
        // bytes, or the whole photo), writes the public copy (not the thumbnail: made on its
        // first request) and the slot's verdict (conditional: the slot is read only when it does not fit), deletes a
        // refused file.
        of(
            "MediaFunction",
            &[
                READ_MEDIA,
                WRITE_MEDIA,
                &[
                    need(
                        "dynamodb:GetItem",
                        On::Table,
                        "DynamoSlots::get: the slot, when the verdict did not fit it (a redelivered event)",
                    ),
                    need(
                        "dynamodb:UpdateItem",
                        On::Table,
                        "DynamoSlots::record_verdict: the check's verdict, conditional on the slot",
                    ),
                ],
            ],
        ),
        // Screening, duplicates, routing, assignment.
        of("ClassifyFunction", &[READ_REPORTS, WRITE_REPORTS]),
        of(
            "NotifyFunction",
            &[
                &[
                    need("dynamodb:GetItem", On::Table, "the report of the event"),
                    ARCHIVED_TIMELINE,
                ],
                NOTIFY,
                SEND_EMAIL,
            ],
        ),
        of(
            "PublishFunction",
            &[
                &[
                    need("dynamodb:GetItem", On::Table, "the report of the event"),
                    ARCHIVED_TIMELINE,
                ],
                NOTIFY,
                SEND_EMAIL,
            ],
        ),
        // The statistics consumer: the report and its recorded share, then one transaction
        // (the share's put, the month item's ADD) when a figure changes.
        of(
            "StatsFunction",
            &[&[
                need(
                    "dynamodb:GetItem",
                    On::Table,
                    "the report of the event, DynamoAggregates' recorded share",
                ),
                ARCHIVED_TIMELINE,
                need(
                    "dynamodb:PutItem",
                    On::Table,
                    "TransactWriteItems put: the report's share",
                ),
                need(
                    "dynamodb:UpdateItem",
                    On::Table,
                    "TransactWriteItems update: ADD to the month item",
                ),
            ]],
        ),
        // Deadline sweeps; the daily audit anchors (functions/common/src/anchor.rs).
        of("EscalateFunction", &[READ_REPORTS, WRITE_REPORTS, ANCHOR]),
        // The stream relay: publishes the events of each change (the stream reads are the
        // Lambda service's, under SAM's AWSLambdaDynamoDBExecutionRole).
        of(
            "RelayFunction",
            &[&[need(
                "sns:Publish",
                On::EventsTopic,
                "SnsEventBus::publish (PublishBatch) of the stream's events",
            )]],
        ),
    ]
}

/// The IAM action an SDK operation needs (`service`, `Operation` as the SDK names it), for
/// the check that every operation the adapters call is covered by the table.
pub fn iam_action_of(service: &str, operation: &str) -> Vec<String> {
    match (service, operation) {
        // Every transaction here puts; the action of its other items is the function's own:
        // report writes also delete (WRITE_REPORTS), the statistics' and upload slots' also
        // update (StatsFunction, UPLOAD_SLOTS).
        ("dynamodb", "TransactWriteItems") => vec!["dynamodb:PutItem".into()],
        ("sns", "PublishBatch") => vec!["sns:Publish".into()],
        ("s3", "HeadObject") => vec!["s3:GetObject".into()],
        ("sesv2", "SendEmail") => vec!["ses:SendEmail".into()],
        ("s3", "CopyObject") => vec!["s3:GetObject".into(), "s3:PutObject".into()],
        (service, op) => vec![format!("{service}:{op}")],
    }
}
