//! The human report of `setu search`: a table of hits with why each matched, the matching
//! MO notes, how many matched and the command for the next page.

use super::mo::category_text;
use super::{clean, fit_line, shell_word, shorten, table};
use crate::view::{CaseView, RecordView, SearchHitView, SearchView};
use crate::words::word_or_dash;

/// The column headers of the hits table.
const HEADERS: [&str; 10] = [
    "#",
    "NAME",
    "ALIASES",
    "FATHER",
    "AGE",
    "STATUS",
    "WARNINGS",
    "ORIGIN",
    "LATEST CASE",
    "SCORE",
];

/// How far the lines under a hit are indented.
const INDENT: &str = "   ";

/// The report `setu search` prints.
///
/// `this_year` turns years of birth into ages; `repeat` is the command line that ran the
/// search, to which the next page's `--page-token` is appended in the hint.
pub fn search_report(view: &SearchView, this_year: i32, repeat: &str) -> String {
    let mut out = String::new();
    if view.hits.is_empty() {
        out.push_str("No records matched.\n");
    } else {
        out.push_str(&hits_table(&view.hits, this_year));
    }
    if !view.mo_notes.is_empty() {
        out.push('\n');
        out.push_str(&mo_notes_section(view));
    }
    if !view.hits.is_empty() {
        out.push('\n');
        out.push_str(&shown_line(view));
    }
    if !view.next_page_token.is_empty() {
        out.push_str(&format!(
            "next page: {}\n",
            clean(&format!(
                "{repeat} --page-token {}",
                shell_word(&view.next_page_token)
            ))
        ));
    }
    out
}

/// The table of hits, each row followed by the record's id and the reasons it matched.
fn hits_table(hits: &[SearchHitView], this_year: i32) -> String {
    let rows: Vec<Vec<String>> = hits
        .iter()
        .enumerate()
        .map(|(i, hit)| hit_row(i + 1, hit, this_year))
        .collect();
    let text = table(&HEADERS, &rows);
    // The table has one line per row after its header, as cells hold no line breaks.
    let mut lines = text.lines();
    let mut out = String::new();
    if let Some(header) = lines.next() {
        out.push_str(header);
        out.push('\n');
    }
    for (line, hit) in lines.zip(hits) {
        out.push_str(line);
        out.push('\n');
        out.push_str(&format!("{INDENT}record {}\n", clean(&hit.record.id)));
        // The node's details start with the field ("alias 'Raju': ..."); others get it.
        for reason in &hit.reasons {
            let detail = clean(&reason.detail);
            let field = clean(&reason.field);
            let line = if detail.starts_with(&field) {
                format!("{INDENT}- {detail}")
            } else {
                format!("{INDENT}- {field}: {detail}")
            };
            out.push_str(&fit_line(&line));
            out.push('\n');
        }
    }
    out
}

/// The cells of one hit's row.
fn hit_row(rank: usize, hit: &SearchHitView, this_year: i32) -> Vec<String> {
    let r = &hit.record;
    let warnings = r
        .warnings
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        rank.to_string(),
        shorten(&r.name, 30),
        or_dash(shorten(&r.aliases.join(", "), 30)),
        or_dash(shorten(&r.father_name, 30)),
        age_cell(r, this_year),
        word_or_dash(r.status),
        or_dash(warnings),
        or_dash(shorten(&r.origin, 24)),
        r.cases
            .last()
            .map_or_else(|| "-".to_string(), |c| shorten(&case_short(c), 30)),
        format!("{:.2}", hit.score),
    ]
}

/// The text itself, or "-" when it is empty.
fn or_dash(text: String) -> String {
    if text.is_empty() {
        "-".to_string()
    } else {
        text
    }
}

/// The age in years from the year of birth, else the recorded age range ("25–30"), else "-".
pub fn age_cell(r: &RecordView, this_year: i32) -> String {
    if r.birth_year != 0 {
        return match this_year.checked_sub_unsigned(r.birth_year) {
            Some(age) if age >= 0 => age.to_string(),
            _ => format!("born {}", r.birth_year),
        };
    }
    match (r.age_min, r.age_max) {
        (0, 0) => "-".to_string(),
        (min, 0) => format!("{min}+"),
        (0, max) => format!("up to {max}"),
        (min, max) if min == max => min.to_string(),
        (min, max) => format!("{min}–{max}"),
    }
}

/// A case in a few words, e.g. "112/2025 Jharia".
pub fn case_short(case: &CaseView) -> String {
    let mut fir = case.fir_number.trim().to_string();
    if case.year != 0 && !fir.ends_with(&case.year.to_string()) {
        fir.push_str(&format!("/{}", case.year));
    }
    format!("{fir} {}", case.police_station.trim())
}

/// The MO notes that matched `--mo-text`: id, category, summary and the words found.
fn mo_notes_section(view: &SearchView) -> String {
    let rows: Vec<Vec<String>> = view
        .mo_notes
        .iter()
        .map(|hit| {
            vec![
                clean(&hit.note.id),
                shorten(&category_text(&hit.note), 24),
                or_dash(shorten(&hit.note.summary, 48)),
                or_dash(shorten(&hit.matched.join("; "), 60)),
            ]
        })
        .collect();
    let mut out = String::from("Matching MO notes:\n");
    out.push_str(&table(&["ID", "CATEGORY", "SUMMARY", "MATCHED"], &rows));
    out
}

/// "3 of 57 shown", or "3 of about 500 shown" when the total is an estimate.
fn shown_line(view: &SearchView) -> String {
    let about = if view.total_is_estimate { "about " } else { "" };
    format!("{} of {about}{} shown\n", view.hits.len(), view.total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{MatchReasonView, MoNoteHitView, MoView};
    use crate::words::{MoCategory, Status, Warning};

    fn hit() -> SearchHitView {
        SearchHitView {
            record: RecordView {
                id: "0190a1b2-0000-7000-8000-000000000001".into(),
                origin: "jh-dhanbad".into(),
                name: "Test Raju Example".into(),
                aliases: vec!["Pappu Test".into(), "Kalu Test".into()],
                father_name: "Imaginary Prasad".into(),
                birth_year: 1990,
                status: Some(Status::Wanted),
                warnings: vec![Warning::Armed, Warning::EscapeRisk],
                cases: vec![
                    CaseView {
                        fir_number: "7/2019".into(),
                        police_station: "Gaya Town".into(),
                        year: 2019,
                        ..Default::default()
                    },
                    CaseView {
                        fir_number: "112".into(),
                        police_station: "Jharia".into(),
                        year: 2025,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
            score: 0.9271,
            reasons: vec![
                MatchReasonView {
                    field: "name".into(),
                    detail: "name 'Raju' ~ 'Raaju' (spelling variant)".into(),
                    score: 0.9,
                },
                MatchReasonView {
                    field: "phones".into(),
                    detail: "phone 9000012345 \u{1b}[31m".into(),
                    score: 1.0,
                },
            ],
        }
    }

    #[test]
    fn hits_print_as_a_table_with_reasons_under_each_row() {
        let view = SearchView {
            hits: vec![hit()],
            total: 1,
            ..Default::default()
        };
        let text = search_report(&view, 2025, "setu search raju");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("#  NAME"), "{text}");
        assert!(lines[0].contains("LATEST CASE"), "{text}");
        assert!(lines[0].ends_with("SCORE"), "{text}");
        for cell in [
            "1",
            "Test Raju Example",
            "Pappu Test, Kalu Test",
            "Imaginary Prasad",
            " 35 ",
            "wanted",
            "armed, escape-risk",
            "jh-dhanbad",
            "112/2025 Jharia",
            "0.93",
        ] {
            assert!(lines[1].contains(cell), "{cell:?} in {text}");
        }
        assert_eq!(lines[2], "   record 0190a1b2-0000-7000-8000-000000000001");
        assert_eq!(lines[3], "   - name 'Raju' ~ 'Raaju' (spelling variant)");
        assert_eq!(
            lines[4], "   - phones: phone 9000012345 \\u{1b}[31m",
            "text from the node cannot drive the terminal"
        );
        assert!(text.ends_with("\n1 of 1 shown\n"), "{text}");
        assert!(!text.contains("next page"), "{text}");
    }

    #[test]
    fn totals_and_the_next_page_command() {
        let view = SearchView {
            hits: vec![hit(), hit()],
            total: 500,
            total_is_estimate: true,
            next_page_token: "abc 'd".into(),
            mo_notes: Vec::new(),
        };
        let text = search_report(&view, 2025, "setu search 'raju yadav' --limit 2");
        assert!(text.contains("\n2 of about 500 shown\n"), "{text}");
        assert!(
            text.ends_with(
                "next page: setu search 'raju yadav' --limit 2 --page-token 'abc '\\''d'\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn no_hits_and_mo_notes() {
        let view = SearchView {
            mo_notes: vec![MoNoteHitView {
                note: MoView {
                    id: "0190a1b2-0000-7000-8000-0000000000aa".into(),
                    category: Some(MoCategory::AtmRobbery),
                    summary: "Cash van robbed near an ATM; shots fired at the guard.".into(),
                    ..Default::default()
                },
                score: 0.75,
                matched: vec!["'atm' in summary".into(), "'firing' in method".into()],
            }],
            ..Default::default()
        };
        let text = search_report(&view, 2025, "setu search --mo-text x");
        assert!(text.starts_with("No records matched.\n"), "{text}");
        assert!(text.contains("Matching MO notes:\nID"), "{text}");
        assert!(text.contains("atm-robbery"), "{text}");
        assert!(
            text.contains("Cash van robbed near an ATM; shots fired at the…"),
            "{text}"
        );
        assert!(
            text.contains("'atm' in summary; 'firing' in method"),
            "{text}"
        );
        assert!(!text.contains("shown"), "{text}");
        assert_eq!(
            search_report(&SearchView::default(), 2025, "setu search x"),
            "No records matched.\n"
        );
    }

    #[test]
    fn ages_come_from_the_year_of_birth_or_the_range() {
        let with = |birth_year, age_min, age_max| RecordView {
            birth_year,
            age_min,
            age_max,
            ..Default::default()
        };
        assert_eq!(age_cell(&with(1990, 20, 25), 2025), "35");
        assert_eq!(age_cell(&with(0, 25, 30), 2025), "25–30");
        assert_eq!(age_cell(&with(0, 25, 0), 2025), "25+");
        assert_eq!(age_cell(&with(0, 0, 30), 2025), "up to 30");
        assert_eq!(age_cell(&with(0, 30, 30), 2025), "30");
        assert_eq!(age_cell(&with(0, 0, 0), 2025), "-");
        assert_eq!(age_cell(&with(2030, 0, 0), 2025), "born 2030");
    }

    #[test]
    fn cases_are_short() {
        let case = |fir: &str, year| CaseView {
            fir_number: fir.into(),
            police_station: "Jharia".into(),
            year,
            ..Default::default()
        };
        assert_eq!(case_short(&case("112/2025", 2025)), "112/2025 Jharia");
        assert_eq!(case_short(&case("112", 2025)), "112/2025 Jharia");
        assert_eq!(case_short(&case("112", 0)), "112 Jharia");
    }
}
