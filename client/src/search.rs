//! `setu search`: suspect search over the district's records and those replicated from its
//! peers, by name in any script, relatives, filters, phones, vehicles, FIRs and MO text.
//!
//! The client only turns the flags into a `SearchRequest` and refuses an empty search; the
//! node judges every value and names the field when it refuses one.

use std::path::Path;

use setu_proto::v1 as pb;
use setu_proto::v1::search_service_client::SearchServiceClient;

use crate::cli::SearchArgs;
use crate::config::ClientConfig;
use crate::connect::connect;
use crate::error::ClientError;
use crate::output::{emit, MAX_MESSAGE_BYTES};
use crate::render::{search_report, shell_word};
use crate::view::SearchView;

/// The environment variable that names the client configuration, as in [`crate::cli::Cli`].
const CONFIG_ENV: &str = "SETU_CONFIG";

/// Runs `setu search` and returns what it prints on stdout.
///
/// `config_path` is the configuration file in use; the next-page hint repeats it as
/// `--config` unless it came from `SETU_CONFIG`.
pub async fn run(
    config: &ClientConfig,
    config_path: &Path,
    args: &SearchArgs,
    json: bool,
) -> Result<String, ClientError> {
    let request = request(args)?;
    let channel = connect(config).await?;
    crate::districts::check_known(&channel, "--district", &args.districts).await?;
    let response = SearchServiceClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .search(request)
        .await?
        .into_inner();
    let view = SearchView::from(response);
    let from_env = std::env::var_os(CONFIG_ENV).is_some_and(|p| Path::new(&p) == config_path);
    let repeat = repeat_command(args, (!from_env).then_some(config_path));
    let this_year = time::OffsetDateTime::now_utc().year();
    emit(json, &view, |v| search_report(v, this_year, &repeat))
}

/// The request for `args`; refuses a search with no criterion at all.
///
/// Flags that only make sense together (`--tolerance` with `--born`, `--fir` with `--ps`)
/// are enforced by the command line itself.
pub fn request(args: &SearchArgs) -> Result<pb::SearchRequest, ClientError> {
    let request = pb::SearchRequest {
        text: args.text.join(" "),
        father_name: args.father.clone().unwrap_or_default(),
        origins: args.districts.clone(),
        statuses: args.statuses.iter().map(|s| s.to_proto()).collect(),
        warnings: args.warnings.iter().map(|w| w.to_proto()).collect(),
        mo_categories: args.mo_categories.iter().map(|c| c.to_proto()).collect(),
        gender: args.gender.map_or(0, |g| g.to_proto()),
        birth_year: args.born.unwrap_or(0),
        birth_year_tolerance: args.tolerance,
        phone: args.phone.clone().unwrap_or_default(),
        vehicle: args.vehicle.clone().unwrap_or_default(),
        fir_number: args.fir.clone().unwrap_or_default(),
        police_station: args.ps.clone().unwrap_or_default(),
        fir_year: args.fir_year.unwrap_or(0),
        mo_text: args.mo_text.clone().unwrap_or_default(),
        page_size: args.limit.unwrap_or(0),
        page_token: args.page_token.clone().unwrap_or_default(),
    };
    if !has_criterion(&request) {
        return Err(ClientError::Input(
            "nothing to search for: give a name or at least one criterion, \
             e.g. setu search \"raju yadav\" --status wanted (see setu search --help)"
                .to_string(),
        ));
    }
    Ok(request)
}

/// Whether the request asks for anything: paging alone is not a search.
fn has_criterion(r: &pb::SearchRequest) -> bool {
    let texts = [
        &r.text,
        &r.father_name,
        &r.phone,
        &r.vehicle,
        &r.fir_number,
        &r.mo_text,
    ];
    texts.iter().any(|t| !t.trim().is_empty())
        || !r.origins.is_empty()
        || !r.statuses.is_empty()
        || !r.warnings.is_empty()
        || !r.mo_categories.is_empty()
        || r.gender != 0
        || r.birth_year != 0
}

/// The command line that repeats this search, without `--page-token`, quoted for a POSIX
/// shell: the next-page hint appends the new token to it.
pub fn repeat_command(args: &SearchArgs, config: Option<&Path>) -> String {
    let mut words: Vec<String> = vec!["setu".to_string()];
    if let Some(path) = config {
        words.push("--config".to_string());
        words.push(shell_word(&path.to_string_lossy()));
    }
    words.push("search".to_string());
    let text = args.text.join(" ");
    if !text.is_empty() {
        words.push(shell_word(&text));
    }
    let mut flag = |name: &str, value: String| {
        words.push(format!("--{name}"));
        words.push(shell_word(&value));
    };
    if let Some(father) = &args.father {
        flag("father", father.clone());
    }
    for status in &args.statuses {
        flag("status", status.to_string());
    }
    for district in &args.districts {
        flag("district", district.clone());
    }
    for warning in &args.warnings {
        flag("warning", warning.to_string());
    }
    for category in &args.mo_categories {
        flag("mo", category.to_string());
    }
    if let Some(mo_text) = &args.mo_text {
        flag("mo-text", mo_text.clone());
    }
    if let Some(gender) = args.gender {
        flag("gender", gender.to_string());
    }
    if let Some(born) = args.born {
        flag("born", born.to_string());
    }
    if let Some(tolerance) = args.tolerance {
        flag("tolerance", tolerance.to_string());
    }
    if let Some(phone) = &args.phone {
        flag("phone", phone.clone());
    }
    if let Some(vehicle) = &args.vehicle {
        flag("vehicle", vehicle.clone());
    }
    if let Some(fir) = &args.fir {
        flag("fir", fir.clone());
    }
    if let Some(ps) = &args.ps {
        flag("ps", ps.clone());
    }
    if let Some(fir_year) = args.fir_year {
        flag("fir-year", fir_year.to_string());
    }
    if let Some(limit) = args.limit {
        flag("limit", limit.to_string());
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use crate::words::{Gender, MoCategory, Status, Warning};
    use clap::Parser;

    /// The search arguments of `setu search ARGS...`.
    fn parse(args: &[&str]) -> Result<SearchArgs, clap::Error> {
        let cli = Cli::try_parse_from(["setu", "search"].iter().chain(args.iter()).copied())?;
        match cli.command {
            Command::Search(args) => Ok(args),
            _ => Err(clap::Error::raw(
                clap::error::ErrorKind::InvalidSubcommand,
                "not parsed as search",
            )),
        }
    }

    /// The usage error `setu search ARGS...` gives, or "accepted" when it gives none.
    fn error(args: &[&str]) -> String {
        match parse(args) {
            Ok(_) => "accepted".to_string(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn every_flag_maps_to_its_field() -> Result<(), Box<dyn std::error::Error>> {
        let args = parse(&[
            "raju",
            "yadav",
            "--father",
            "Imaginary Prasad",
            "--status",
            "wanted",
            "--status",
            "absconding",
            "--district",
            "jh-dhanbad",
            "--district",
            "wb-asansol-durgapur",
            "--warning",
            "armed",
            "--mo",
            "atm-robbery",
            "--mo-text",
            "ATM cash van firing",
            "--gender",
            "male",
            "--born",
            "1990",
            "--tolerance",
            "3",
            "--phone",
            "+91 90000 12345",
            "--vehicle",
            "JH 99 ZZ 1234",
            "--fir",
            "112/2025",
            "--ps",
            "Jharia",
            "--fir-year",
            "2025",
            "--limit",
            "5",
            "--page-token",
            "tok",
        ])?;
        let r = request(&args)?;
        assert_eq!(r.text, "raju yadav");
        assert_eq!(r.father_name, "Imaginary Prasad");
        assert_eq!(
            r.statuses,
            vec![
                pb::PersonStatus::Wanted as i32,
                pb::PersonStatus::Absconding as i32
            ]
        );
        assert_eq!(r.origins, vec!["jh-dhanbad", "wb-asansol-durgapur"]);
        assert_eq!(r.warnings, vec![pb::Warning::Armed as i32]);
        assert_eq!(r.mo_categories, vec![pb::MoCategory::AtmRobbery as i32]);
        assert_eq!(r.mo_text, "ATM cash van firing");
        assert_eq!(r.gender, pb::Gender::Male as i32);
        assert_eq!((r.birth_year, r.birth_year_tolerance), (1990, Some(3)));
        assert_eq!(r.phone, "+91 90000 12345");
        assert_eq!(r.vehicle, "JH 99 ZZ 1234");
        assert_eq!(
            (r.fir_number.as_str(), r.police_station.as_str(), r.fir_year),
            ("112/2025", "Jharia", 2025)
        );
        assert_eq!((r.page_size, r.page_token.as_str()), (5, "tok"));
        Ok(())
    }

    #[test]
    fn unset_flags_leave_the_node_defaults() -> Result<(), Box<dyn std::error::Error>> {
        let r = request(&parse(&["raju yadav"])?)?;
        assert_eq!(
            r,
            pb::SearchRequest {
                text: "raju yadav".into(),
                ..Default::default()
            }
        );
        assert_eq!(
            r.birth_year_tolerance, None,
            "unset means the node's default"
        );
        let r = request(&parse(&["--born", "1990", "--tolerance", "0"])?)?;
        assert_eq!(r.birth_year_tolerance, Some(0), "zero is sent, not dropped");
        Ok(())
    }

    #[test]
    fn a_filter_alone_is_a_search_but_nothing_is_not() -> Result<(), Box<dyn std::error::Error>> {
        assert!(request(&parse(&["--status", "wanted"])?).is_ok());
        assert!(request(&parse(&["--mo-text", "cash van"])?).is_ok());
        for empty in [&[][..], &["  "], &["--limit", "5", "--page-token", "t"]] {
            let refused = request(&parse(empty)?);
            assert!(
                matches!(&refused, Err(ClientError::Input(m)) if m.contains("nothing to search for")),
                "{empty:?}: {refused:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn usage_mistakes_name_the_flags() {
        let e = error(&["raju", "--tolerance", "3"]);
        assert!(e.contains("--born"), "{e}");
        let e = error(&["raju", "--fir", "112/2025"]);
        assert!(e.contains("--ps"), "{e}");
        let e = error(&["raju", "--ps", "Jharia"]);
        assert!(e.contains("--fir"), "{e}");
        let e = error(&["raju", "--fir-year", "2025"]);
        assert!(e.contains("--fir"), "{e}");
        let e = error(&["raju", "--status", "fugitive"]);
        assert!(e.contains("--status") && e.contains("absconding"), "{e}");
        let e = error(&["raju", "--mo", "pickpocket"]);
        assert!(e.contains("--mo") && e.contains("atm-robbery"), "{e}");
        let e = error(&["raju", "--warning", "rude"]);
        assert!(e.contains("--warning"), "{e}");
        let e = error(&["raju", "--gender", "x"]);
        assert!(e.contains("--gender"), "{e}");
        let e = error(&["raju", "--born", "nineteen"]);
        assert!(e.contains("--born"), "{e}");
        let e = error(&["raju", "--limit", "0"]);
        assert!(e.contains("--limit"), "{e}");
    }

    #[test]
    fn the_repeated_command_quotes_what_the_shell_would_split() {
        let args = SearchArgs {
            text: vec!["raju".into(), "yadav".into()],
            statuses: vec![Status::Wanted, Status::OnBail],
            warnings: vec![Warning::Armed],
            mo_categories: vec![MoCategory::AtmRobbery],
            mo_text: Some("cash van".into()),
            gender: Some(Gender::Male),
            born: Some(1990),
            tolerance: Some(3),
            fir: Some("112/2025".into()),
            ps: Some("Jharia Town".into()),
            limit: Some(2),
            page_token: Some("old".into()),
            ..Default::default()
        };
        assert_eq!(
            repeat_command(&args, Some(Path::new("/etc/setu/my officer.toml"))),
            "setu --config '/etc/setu/my officer.toml' search 'raju yadav' \
             --status wanted --status on-bail --warning armed --mo atm-robbery \
             --mo-text 'cash van' --gender male --born 1990 --tolerance 3 \
             --fir 112/2025 --ps 'Jharia Town' --limit 2"
        );
        let plain = SearchArgs {
            districts: vec!["jh-dhanbad".into()],
            ..Default::default()
        };
        assert_eq!(
            repeat_command(&plain, None),
            "setu search --district jh-dhanbad"
        );
    }
}
