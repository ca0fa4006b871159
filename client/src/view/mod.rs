//! The JSON shapes of Setu's messages: what `--json` prints and what `--file` reads.
//!
//! The generated protobuf types carry numbers for enums and no serde support; these views use
//! the lower-case words of [`crate::words`] and integer milliseconds for timestamps, and
//! convert losslessly to and from the protobuf messages for every known enum value.

mod alert;
mod audit;
mod common;
mod mo;
mod peers;
mod record;
mod search;

pub use alert::{
    AlertAckView, AlertEventView, AlertListView, AlertMessageView, AlertOverdueEventView,
    AlertOverdueView, AlertTargetView, AlertView,
};
pub use audit::{AuditEntryView, AuditListView};
pub use common::{AddressView, CaseView, PhotoView, TombstoneView};
pub use mo::{edited_note, MethodView, MoListView, MoView};
pub use peers::{LinkBytesView, OriginLagView, PeerListView, PeerView, WatermarkView};
pub use record::{edited_record, PhotoUploadView, RecordListView, RecordView};
pub use search::{MatchReasonView, MoNoteHitView, SearchHitView, SearchView};
