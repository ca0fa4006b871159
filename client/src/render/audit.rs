//! The table `setu audit` prints: newest first (unless asked otherwise), local times to
//! the second, actions in one style ("record.get", "search.search") and what was searched
//! for.

use super::{clean, shorten, table};
use crate::view::AuditListView;

/// How many ids a table cell shows before summarising the rest.
const IDS_SHOWN: usize = 2;

/// The audit table: time, officer, district, action, query, ids, results, outcome.
pub fn audit_table(list: &AuditListView) -> String {
    if list.entries.is_empty() {
        return "no audit entries\n".to_string();
    }
    let rows: Vec<Vec<String>> = list
        .entries
        .iter()
        .map(|e| {
            let mut ids: Vec<String> = e.ids.iter().take(IDS_SHOWN).map(|i| clean(i)).collect();
            if e.ids.len() > IDS_SHOWN {
                ids.push(format!("+{} more", e.ids.len() - IDS_SHOWN));
            }
            vec![
                crate::when::seconds(e.at_ms),
                shorten(&e.officer, 20),
                shorten(&e.district, 30),
                shorten(&action_words(&e.action), 24),
                if e.query.trim().is_empty() {
                    "-".to_string()
                } else {
                    clean(&e.query)
                },
                if ids.is_empty() {
                    "-".to_string()
                } else {
                    ids.join(" ")
                },
                e.results.to_string(),
                clean(&e.outcome),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "TIME", "OFFICER", "DISTRICT", "ACTION", "QUERY", "IDS", "RESULTS", "OUTCOME",
        ],
        &rows,
    );
    if !list.next_page_token.is_empty() {
        out.push_str(&format!(
            "more entries: continue with --page-token {}\n",
            clean(&list.next_page_token)
        ));
    }
    out
}

/// An action in the style of "record.get": entries written by older nodes may name the
/// service instead ("SearchService.search"), which becomes "search.search".
pub(crate) fn action_words(action: &str) -> String {
    match action.split_once('.') {
        Some((service, call)) if service.ends_with("Service") => format!(
            "{}.{}",
            service.trim_end_matches("Service").to_lowercase(),
            call.to_lowercase()
        ),
        _ => action.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::AuditEntryView;

    #[test]
    fn entries_print_as_a_table() {
        let list = AuditListView {
            entries: vec![AuditEntryView {
                seq: 1,
                at_ms: 1_760_000_000_000,
                officer: "JH-1001".into(),
                district: "jh-dhanbad".into(),
                action: "record.get".into(),
                ids: vec!["a".into(), "b".into(), "c".into()],
                results: 1,
                outcome: "OK".into(),
                ..Default::default()
            }],
            next_page_token: String::new(),
        };
        let text = audit_table(&list);
        assert!(text.starts_with("TIME"), "{text}");
        assert!(text.contains(" 08:53:20 UTC"), "{text}");
        assert!(text.contains("JH-1001"), "{text}");
        assert!(text.contains("a b +1 more"), "{text}");
        assert!(text.contains("UTC"), "{text}");
        assert_eq!(audit_table(&AuditListView::default()), "no audit entries\n");
        assert_eq!(action_words("SearchService.search"), "search.search");
        assert_eq!(action_words("record.get"), "record.get");
    }
}
