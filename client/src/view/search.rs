//! The JSON view of `setu search`: the hits with their scores and reasons, the matching MO
//! notes and the paging of the answer.

use serde::{Deserialize, Serialize};
use setu_proto::v1 as pb;

use super::mo::MoView;
use super::record::RecordView;

/// Why a hit matched, for one criterion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchReasonView {
    /// The record field that matched, e.g. "alias" or "phones".
    pub field: String,
    /// The match in words, e.g. "alias 'Raju' ~ 'Raaju' (spelling variant)".
    pub detail: String,
    /// This criterion's score in (0, 1].
    pub score: f32,
}

impl From<pb::MatchReason> for MatchReasonView {
    fn from(r: pb::MatchReason) -> Self {
        Self {
            field: r.field,
            detail: r.detail,
            score: r.score,
        }
    }
}

/// One hit: the record as `record show --json` prints it, its score and its reasons.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchHitView {
    /// The record as the node holds it (its own or replicated from the origin district).
    pub record: RecordView,
    /// Overall score in (0, 1]; hits are ranked by it.
    pub score: f32,
    /// Why the record matched, one entry per criterion.
    pub reasons: Vec<MatchReasonView>,
}

impl From<pb::SearchHit> for SearchHitView {
    fn from(h: pb::SearchHit) -> Self {
        Self {
            record: h.record.map(RecordView::from).unwrap_or_default(),
            score: h.score,
            reasons: h.reasons.into_iter().map(MatchReasonView::from).collect(),
        }
    }
}

/// An MO note that matched `--mo-text`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MoNoteHitView {
    /// The note as `mo show --json` prints it.
    pub note: MoView,
    /// The share of the query words found in the note, in (0, 1].
    pub score: f32,
    /// The query words found, and where, e.g. "'atm' in summary".
    pub matched: Vec<String>,
}

impl From<pb::MoNoteHit> for MoNoteHitView {
    fn from(h: pb::MoNoteHit) -> Self {
        Self {
            note: h.note.map(MoView::from).unwrap_or_default(),
            score: h.score,
            matched: h.matched,
        }
    }
}

/// What `setu search` prints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchView {
    /// The hits on this page, best first.
    pub hits: Vec<SearchHitView>,
    /// How many records matched in all, before paging.
    pub total: u32,
    /// Whether `total` is an estimate: the query was so broad that only the most promising
    /// candidates were scored in full, and the total also counts those that were not.
    pub total_is_estimate: bool,
    /// The token for the next page; empty when there are no more hits.
    pub next_page_token: String,
    /// With `--mo-text`: the best matching MO notes (first page only).
    pub mo_notes: Vec<MoNoteHitView>,
}

impl From<pb::SearchResponse> for SearchView {
    fn from(r: pb::SearchResponse) -> Self {
        Self {
            hits: r.hits.into_iter().map(SearchHitView::from).collect(),
            total: r.total,
            total_is_estimate: r.total_is_estimate,
            next_page_token: r.next_page_token,
            mo_notes: r.mo_notes.into_iter().map(MoNoteHitView::from).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_keep_the_record_shape_of_record_show() -> Result<(), serde_json::Error> {
        let view = SearchView::from(pb::SearchResponse {
            hits: vec![pb::SearchHit {
                record: Some(pb::PersonRecord {
                    id: "0190a1b2-0000-7000-8000-000000000001".into(),
                    name: "Test Raju Example".into(),
                    status: pb::PersonStatus::Wanted as i32,
                    ..Default::default()
                }),
                score: 0.875,
                reasons: vec![pb::MatchReason {
                    field: "name".into(),
                    detail: "name 'Raju' ~ 'Raaju' (spelling variant)".into(),
                    score: 0.875,
                }],
            }],
            total: 7,
            total_is_estimate: true,
            next_page_token: "t2".into(),
            mo_notes: vec![pb::MoNoteHit {
                note: Some(pb::MoNote {
                    id: "n1".into(),
                    category: pb::MoCategory::AtmRobbery as i32,
                    ..Default::default()
                }),
                score: 0.5,
                matched: vec!["'atm' in summary".into()],
            }],
        });
        let json = serde_json::to_value(&view)?;
        let record = &json["hits"][0]["record"];
        assert_eq!(
            record,
            &serde_json::to_value(&view.hits[0].record)?,
            "the record is printed as record show --json prints it"
        );
        assert_eq!(record["status"], "wanted");
        assert_eq!(json["hits"][0]["score"], 0.875);
        assert_eq!(json["hits"][0]["reasons"][0]["field"], "name");
        assert_eq!(json["total"], 7);
        assert_eq!(json["total_is_estimate"], true);
        assert_eq!(json["next_page_token"], "t2");
        assert_eq!(json["mo_notes"][0]["note"]["category"], "atm-robbery");
        assert_eq!(json["mo_notes"][0]["matched"][0], "'atm' in summary");
        assert_eq!(serde_json::from_value::<SearchView>(json)?, view);
        Ok(())
    }
}
