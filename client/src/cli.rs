//! The command line of `setu`, declared with clap's derive API.
//!
//! Enum flags take the lower-case words of [`crate::words`]; a wrong word is a usage error
//! that names the flag and lists the allowed values.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::parse::{
    parse_address, parse_case, parse_duration, parse_non_blank, parse_sha256, parse_sha256_prefix,
    parse_time, parse_warning_or_none, TimeArg,
};
use crate::table::{parse_map_entry, MapEntry, TableFormat};
use crate::view::{AddressView, CaseView};
use crate::words::{AlertCategory, AlertPriority, Gender, Handling, MoCategory, Status, Warning};

/// The help text of `--case`, kept out of doc comments because of its brackets.
const CASE_HELP: &str = "A linked FIR as \"FIR/YEAR@POLICE STATION[:SECTION;SECTION...][:ROLE]\", \
     e.g. \"112/2025@Jharia:BNS 309(4);BNS 111:accused\"; ROLE is one of suspect, accused, \
     convicted (repeatable)";

/// The long help of `setu import`, kept out of doc comments because of its brackets.
const IMPORT_HELP: &str = "Import person records into this district from a CSV or JSON Lines file.

The file is read and sent to the node in batches as it is read, so a file of any size can be \
imported; progress goes to standard error (a bar on a terminal, a line every few seconds \
otherwise). The node checks every row: good rows are stored, and each bad row is reported by \
its number, the field at fault and why, without stopping the import or leaving any part of the \
row stored. \"Row N\" is the N-th record after the header row (the N-th object of a JSON Lines \
file); the file line it starts on is shown beside it. Rows whose cells are all empty are \
skipped.

Columns. The CSV header names the record field of each column: external_ref, name, \
name_local, aliases, father_name, gender, birth_year, age_min, age_max, addresses, \
identifying_marks, phones, vehicles, status, reward_inr, warnings, cases, associates, \
handling, review_by. Case, spaces and hyphens do not matter (\"Father Name\" is father_name); \
other headers are mapped with --map, e.g. --map name=Naam,father_name=Pita. A column that \
names no field stops the import before anything is sent. A file needs a name column; the \
other columns are optional.

Cells. An empty cell leaves the field unset. aliases, identifying_marks, phones, vehicles, \
warnings and associates hold several values separated by ';'. cases holds FIRs separated by \
'|', each as FIR/YEAR@POLICE STATION[:SECTION;SECTION...][:ROLE], e.g. \
\"112/2025@Jharia:BNS 309(4);BNS 111:accused | 7/2024@Gaya Town\". addresses holds addresses \
separated by '|', each as \"locality, police station, district, state\". A backslash before \
';', '|', ',' or another backslash makes it an ordinary character. gender, status, warnings \
and handling take the words `record add` takes (e.g. in-custody, escape-risk, local-only); \
birth_year, age_min and age_max are whole numbers; reward_inr is rupees (1,00,000 and ₹ are \
fine); review_by is YYYY-MM-DD or RFC 3339. Text is taken as written, Devanagari or any other \
script; the file must be UTF-8 (\"CSV UTF-8\" in spreadsheet programs). A cell this client \
cannot read rejects its row, which is then not sent.

JSON Lines: one object per line with the same keys; multi-valued fields may also be arrays, \
and cases and addresses objects as `record show --json` prints them.

Importing again. A row whose external_ref (the district's own dossier number) is already \
used updates that record, or leaves it alone when nothing changed, so importing the same \
file twice creates no duplicates. Rows without an external_ref always create new records.

Output: \"imported N new, U updated, K unchanged, R rejected\", then every rejected row as \
\"row N (line L): FIELD: REASON\", in row order; with --json, the same as a JSON document.

Exit status: 0 when every row was imported (with --dry-run: would be); 3 when some rows were \
rejected, the others having been imported all the same; 1 when the import could not be done \
(an unknown column, an unreadable file, the node refusing or unreachable). An import cut off \
part of the way through (the connection lost, the file unreadable further on) also ends with \
1; rows sent before then may be stored, and importing the file again is safe for rows with \
an external_ref.";

/// The long help of `setu export`.
const EXPORT_HELP: &str =
    "Write this district's own records to a file that `setu import` reads back.

CSV (the default, or when --out ends in .csv) has a header row naming every column `setu \
import` knows, with multi-valued cells written as import reads them; JSON Lines (--format \
jsonl, or --out ending in .jsonl) writes one object per record with the fields that are set. \
Records are written as they arrive, so an export of any size takes little memory.

Without --out the records go to standard output and a summary to standard error. With --out \
the file is written under a hidden name beside it and renamed into place once complete, and \
the summary is printed (as JSON with --json).

Importing an export again, here or into another district's node, changes nothing for records \
with an external_ref; records without one would be created a second time. Ids, versions, \
photos, timestamps and authors are not exported. An FIR number that does not end in /YEAR \
cannot be written in CSV's case format exactly: a warning names each such record, and \
--format jsonl keeps it.";

/// Setu: shared criminal records for police districts on both sides of a state border.
#[derive(Debug, Parser)]
#[command(name = "setu", version, about, propagate_version = true)]
pub struct Cli {
    /// The client configuration file (TOML).
    #[arg(long, global = true, env = "SETU_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print machine-readable JSON on standard output.
    #[arg(long, global = true)]
    pub json: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level command groups.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Person records: add, show, update, delete, list and photos.
    #[command(subcommand)]
    Record(RecordCommand),
    /// Modus-operandi notes: add, show, update, delete and list.
    #[command(subcommand)]
    Mo(MoCommand),
    /// The district's federation links: connection, lag, anti-entropy and errors per peer.
    ///
    /// For each peer the node is configured to sync with: whether its sync stream is open,
    /// when it was last heard from, how many changes are still to flow in (its changes not yet
    /// applied here) and out (ours it has not yet applied), the last anti-entropy check and
    /// its result, the last error on the link, and how far the changes of each origin received
    /// from it have been applied (sequence number and the origin database's epoch in hex).
    /// Times are local, in the zone TZ names (else the system's), with the zone shown. With
    /// --json, timestamps are Unix milliseconds and 0 means never.
    Peers,
    /// The node's audit trail (admins only): who did what, when, to which ids, and how it ended.
    ///
    /// Prints time (local, to the second), officer, district, action, what was searched or
    /// listed for, ids, results and outcome, newest first (--oldest-first for the other
    /// way). A bare date for --until includes that whole day.
    Audit(AuditArgs),
    /// Search the district's records and those replicated from its peers, best match first.
    ///
    /// TEXT is a name in any script, with aliases ("Raju @ Pappu", "Raju urf Pappu") and a
    /// relative ("Ravi s/o Ramesh"); the flags narrow or add criteria. Prints a table of hits
    /// with why each matched, the matching MO notes for --mo-text, how many matched, and the
    /// command for the next page. With --json, each hit is the record as `record show
    /// --json` prints it, with its score and reasons.
    Search(SearchArgs),
    /// Cross-border alerts: post, update, cancel, acknowledge, show, list and watch.
    ///
    /// Liaison and admin officers post an alert to the peer districts (all of them unless
    /// --target names some); officers of those districts see it live with `alert watch`, and a
    /// liaison or admin of each targeted district acknowledges it on their own node within the
    /// deadline its priority sets: 10 minutes for flash, 1 hour for immediate, none for
    /// routine. Times are local (TZ, else the system's zone); with --json they are Unix
    /// milliseconds.
    #[command(subcommand)]
    Alert(AlertCommand),
    /// Import person records into this district from a CSV or JSON Lines file.
    #[command(long_about = IMPORT_HELP)]
    Import(ImportArgs),
    /// Write this district's own records to a CSV or JSON Lines file.
    #[command(long_about = EXPORT_HELP)]
    Export(ExportArgs),
    /// A web console for the control room, served on this machine with your certificate.
    ///
    /// Prints `console: http://127.0.0.1:PORT/?token=TOKEN` as its first line: open that
    /// address in a browser on this machine. The alert wall updates live; search, dossiers,
    /// record and alert forms and the federation links are one click away. Every page is
    /// made from calls to your node with your certificate, so the node allows and audits
    /// exactly what it would for `setu` commands. Without the token (or the cookie it sets)
    /// every page answers 401; nothing is written to disk. Ctrl-C stops it.
    Console(ConsoleArgs),
    /// Who your certificate says you are, and whether your node accepts it.
    ///
    /// Prints the name, badge, role and district the configured certificate names, its
    /// serial and expiry (with the days left), then asks the node at the configured address
    /// one question with it and says whether the node accepts the certificate, or why not.
    /// Exits non-zero when the node refuses the certificate or cannot be reached.
    Whoami,
}

/// The arguments of `setu console`.
#[derive(Debug, Clone, Args)]
pub struct ConsoleArgs {
    /// Where to listen: a loopback address only, e.g. 127.0.0.1:7480 (port 0 picks a free one).
    #[arg(long, value_name = "ADDRESS", default_value = crate::console::DEFAULT_LISTEN,
          value_parser = crate::console::parse_listen)]
    pub listen: std::net::SocketAddr,
}

/// The arguments of `setu import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The file: CSV (.csv) or JSON Lines (.jsonl, .ndjson); "-" reads standard input and
    /// needs --format.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The file's format, when its extension does not say.
    #[arg(long)]
    pub format: Option<TableFormat>,
    /// A header (or JSON key) that holds a record field under another name, as FIELD=HEADER;
    /// comma-separated or repeated, e.g. --map name=Naam,father_name=Pita.
    #[arg(
        long = "map",
        value_name = "FIELD=HEADER",
        value_delimiter = ',',
        value_parser = parse_map_entry
    )]
    pub map: Vec<MapEntry>,
    /// Only check: the node validates every row and reports what would happen; nothing is
    /// stored.
    #[arg(long)]
    pub dry_run: bool,
    /// Rows per message to the node (at most 5000; messages are also kept under 1 MiB).
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub batch_rows: u32,
}

/// The arguments of `setu export`.
#[derive(Debug, Clone, Default, Args)]
pub struct ExportArgs {
    /// The format: csv, or jsonl; by default from --out's extension, else csv.
    #[arg(long)]
    pub format: Option<TableFormat>,
    /// Write to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Commands on cross-border alerts.
#[derive(Debug, Subcommand)]
pub enum AlertCommand {
    /// Post a new alert to peer districts and print its id.
    ///
    /// Liaison and admin officers only. With --json, prints the alert as posted.
    Post(AlertPost),
    /// Change an alert's content and print the id of the update; the targets cannot change.
    ///
    /// Only the given flags change; a list flag given replaces the whole list. Liaison and
    /// admin officers of the posting district only. With --json, prints the update.
    Update(AlertUpdate),
    /// Withdraw an alert: it stops streaming and lists as cancelled everywhere.
    Cancel {
        /// The alert id.
        id: String,
        /// Why the alert is withdrawn (mandatory), e.g. "suspects arrested at Test Nagar".
        #[arg(long, value_parser = parse_non_blank)]
        reason: String,
    },
    /// Acknowledge an alert for your district, on your district's node.
    ///
    /// Liaison and admin officers of a targeted district only. A second acknowledgement
    /// replaces the first. The acknowledgement travels back to the alert's district.
    Ack {
        /// The alert id.
        id: String,
        /// What was done, e.g. "nakabandi at the river bridge".
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Show one alert: its content, state, history, and per target district its
    /// acknowledgement or how late it is.
    ///
    /// On the posting district's node every target's acknowledgement is known; a receiving
    /// node knows only its own district's.
    Show {
        /// The alert id.
        id: String,
    },
    /// List alerts, newest first, one page at a time.
    List(AlertList),
    /// Print alerts and acknowledgements as they happen, until Ctrl-C.
    ///
    /// First the events of the open alerts (or those after --after), then new ones live.
    /// Each alert, update and cancellation prints as a card, each acknowledgement as one
    /// line; on a terminal the priority is coloured and a flash alert rings the bell. If the
    /// node goes away, the watch reconnects (waiting 1 s, doubling up to 30 s) and resumes
    /// after the last event printed. With --json, prints one JSON object per event and line,
    /// with its position in the node's feed.
    Watch(AlertWatch),
}

/// The flags of `alert post`.
#[derive(Debug, Clone, Args)]
pub struct AlertPost {
    /// How urgent: flash (acknowledge within 10 minutes), immediate (within 1 hour) or
    /// routine (no deadline).
    #[arg(long)]
    pub priority: AlertPriority,
    /// What the alert is about.
    #[arg(long)]
    pub category: AlertCategory,
    /// One line saying what happened, e.g. "Cash van robbed at Test Nagar".
    #[arg(long, value_parser = parse_non_blank)]
    pub title: String,
    /// The details.
    #[arg(long, value_parser = parse_non_blank)]
    pub body: String,
    /// How long the alert stays live, e.g. 30m, 2h, 1d or 1h30m (the node allows at most
    /// 30 days).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub expires_in: Duration,
    /// A peer district to alert, e.g. wb-asansol-durgapur (repeatable; default: every peer).
    #[arg(long = "target", value_name = "DISTRICT")]
    pub targets: Vec<String>,
    /// What else the alert carries.
    #[command(flatten)]
    pub details: AlertDetails,
}

/// The flags of `alert update`: every one optional.
#[derive(Debug, Clone, Args)]
pub struct AlertUpdate {
    /// The alert id.
    pub id: String,
    /// A new priority; its acknowledgement deadline follows.
    #[arg(long)]
    pub priority: Option<AlertPriority>,
    /// A new category.
    #[arg(long)]
    pub category: Option<AlertCategory>,
    /// A new title.
    #[arg(long, value_parser = parse_non_blank)]
    pub title: Option<String>,
    /// A new body.
    #[arg(long, value_parser = parse_non_blank)]
    pub body: Option<String>,
    /// A new expiry, counted from now, e.g. 30m, 2h, 1d or 1h30m.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub expires_in: Option<Duration>,
    /// What changed, e.g. "two suspects identified".
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// New lists and texts; each replaces the stored one.
    #[command(flatten)]
    pub details: AlertDetails,
}

/// The optional content of an alert, shared by `alert post` and `alert update`.
#[derive(Debug, Clone, Default, Args)]
pub struct AlertDetails {
    /// When the incident happened: YYYY-MM-DD (local) or RFC 3339, e.g. 2025-10-09T08:30:00+05:30.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub incident_at: Option<TimeArg>,
    /// Where the incident happened, e.g. "Test Nagar, near the bank".
    #[arg(long, value_name = "PLACE")]
    pub place: Option<String>,
    /// The id of a person record the alert concerns (repeatable).
    #[arg(long = "record", value_name = "ID")]
    pub records: Vec<String>,
    /// A vehicle registration to look out for (repeatable).
    #[arg(long = "vehicle", value_name = "REGISTRATION")]
    pub vehicles: Vec<String>,
    /// A phone number concerned (repeatable).
    #[arg(long = "phone", value_name = "PHONE")]
    pub phones: Vec<String>,
    /// The SHA-256 of a photo held by this node, e.g. of a linked record (repeatable).
    #[arg(long = "photo", value_name = "SHA256", value_parser = parse_sha256)]
    pub photos: Vec<String>,
    /// A caution for officers (repeatable).
    #[arg(long = "warning", value_name = "WARNING")]
    pub warnings: Vec<Warning>,
    /// What the receiving districts are asked to do, e.g. "stop and detain".
    #[arg(long, value_name = "TEXT")]
    pub action: Option<String>,
}

/// The filters and paging of `alert list`.
#[derive(Debug, Clone, Default, Args)]
pub struct AlertList {
    /// Only alerts that are neither cancelled nor expired.
    #[arg(long)]
    pub open: bool,
    /// Only open alerts that a target district has not acknowledged in time.
    #[arg(long)]
    pub overdue: bool,
    /// At most this many alerts (the node decides the default and the maximum).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    /// The token printed by the previous page; give the same filters again.
    #[arg(long, value_name = "TOKEN")]
    pub page_token: Option<String>,
}

/// Where `alert watch` starts.
#[derive(Debug, Clone, Default, Args)]
pub struct AlertWatch {
    /// Start after this event: the id of an alert message or acknowledgement printed before.
    #[arg(long, value_name = "ID", conflicts_with = "live")]
    pub after: Option<String>,
    /// Only what happens from now on.
    #[arg(long)]
    pub live: bool,
}

/// The criteria and paging of `setu search`.
#[derive(Debug, Clone, Default, Args)]
pub struct SearchArgs {
    /// A name, alias or relative in any script; quotes are optional ("raju yadav").
    #[arg(value_name = "TEXT")]
    pub text: Vec<String>,
    /// The father's (or husband's) name.
    #[arg(long, value_name = "NAME")]
    pub father: Option<String>,
    /// Only records with this status (repeatable).
    #[arg(long = "status", value_name = "STATUS")]
    pub statuses: Vec<Status>,
    /// Only records owned by this district, e.g. jh-dhanbad (repeatable).
    #[arg(long = "district", value_name = "DISTRICT")]
    pub districts: Vec<String>,
    /// Only records carrying this warning (repeatable; all must be present).
    #[arg(long = "warning", value_name = "WARNING")]
    pub warnings: Vec<Warning>,
    /// Only people linked to an MO note of this category (repeatable).
    #[arg(long = "mo", value_name = "CATEGORY")]
    pub mo_categories: Vec<MoCategory>,
    /// Free text over MO notes (summary, method, places, cases), e.g. "ATM cash van firing".
    #[arg(long, value_name = "TEXT")]
    pub mo_text: Option<String>,
    /// Only this gender.
    #[arg(long)]
    pub gender: Option<Gender>,
    /// Born in this year, give or take --tolerance (records with only an age range match
    /// when the range overlaps).
    #[arg(long, value_name = "YEAR", value_parser = clap::value_parser!(u32).range(1..))]
    pub born: Option<u32>,
    /// Years either side of --born (the node's default is 2).
    #[arg(long, value_name = "N", requires = "born")]
    pub tolerance: Option<u32>,
    /// A phone number in any common form, e.g. "+91 98765-43210".
    #[arg(long, value_name = "PHONE")]
    pub phone: Option<String>,
    /// A vehicle registration in any common form, e.g. "JH 10 AB 1234".
    #[arg(long, value_name = "REGISTRATION")]
    pub vehicle: Option<String>,
    /// An FIR number, "112/2025" or "112"; needs --ps.
    #[arg(long, value_name = "FIR", requires = "ps")]
    pub fir: Option<String>,
    /// The police station of --fir.
    #[arg(long, value_name = "STATION", requires = "fir")]
    pub ps: Option<String>,
    /// The year of --fir, when the FIR number does not carry it.
    #[arg(long, value_name = "YEAR", requires = "fir",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub fir_year: Option<u32>,
    /// At most this many hits (the node's default is 20, its maximum 100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: Option<u32>,
    /// The token printed by the previous page; give the same criteria again.
    #[arg(long, value_name = "TOKEN")]
    pub page_token: Option<String>,
}

/// The filters and paging of `setu audit`.
#[derive(Debug, Clone, Default, Args)]
pub struct AuditArgs {
    /// Only entries at or after this time: YYYY-MM-DD (local) or RFC 3339.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<TimeArg>,
    /// Only entries before this time: YYYY-MM-DD (local, the whole day included) or RFC 3339.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<TimeArg>,
    /// Only entries of this officer (badge, e.g. JH-1234).
    #[arg(long, value_name = "BADGE")]
    pub officer: Option<String>,
    /// Only entries that touched this record (or other item) id.
    #[arg(long = "record", value_name = "ID")]
    pub record: Option<String>,
    /// At most this many entries (default 100, at most 100000).
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub limit: u32,
    /// The token printed by a previous run, to continue after it.
    #[arg(long, value_name = "TOKEN")]
    pub page_token: Option<String>,
    /// List the oldest entries first instead of the newest.
    #[arg(long)]
    pub oldest_first: bool,
}

/// Commands on person records.
#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// Create a record and print its id.
    Add(RecordFields),
    /// Show one record.
    Show {
        /// The record id.
        id: String,
        /// Also download every photo of the record into this folder (created when missing),
        /// each checked against its SHA-256 and named after it with the extension of its
        /// type, e.g. "3f9a...e1.jpg". With --json, prints {"record": ..., "saved": ...}.
        #[arg(long, value_name = "DIR")]
        save_photos: Option<PathBuf>,
    },
    /// Change a record: the given fields replace the stored ones.
    Update {
        /// The record id.
        id: String,
        /// The fields to replace.
        #[command(flatten)]
        fields: RecordFields,
        /// The version last read; defaults to the version in --file, else the stored version.
        #[arg(long, value_name = "N")]
        expected_version: Option<u64>,
    },
    /// Expunge a record, leaving a tombstone.
    Delete {
        /// The record id.
        id: String,
        /// Why the record is expunged (mandatory).
        #[arg(long, value_parser = parse_non_blank)]
        reason: String,
        /// Refuse the delete unless the stored version is this one.
        #[arg(long, value_name = "N")]
        expected_version: Option<u64>,
    },
    /// List records, one page at a time.
    List(ListRecords),
    /// Confirm a record of this district after its review (admins): its review date moves a
    /// year on, or to --until. A record no longer needed is expunged with `record delete`.
    Review {
        /// The record id.
        id: String,
        /// The next review date: YYYY-MM-DD (local) or RFC 3339; at most five years ahead.
        #[arg(long, value_name = "DATE", value_parser = parse_time)]
        until: Option<TimeArg>,
        /// Refuse unless the stored version is this one.
        #[arg(long, value_name = "N")]
        expected_version: Option<u64>,
    },
    /// Photos of a record.
    #[command(subcommand)]
    Photo(PhotoCommand),
}

/// The filters and paging of `record list`.
#[derive(Debug, Clone, Default, Args)]
pub struct ListRecords {
    /// Only records with this status (repeatable).
    #[arg(long = "status", value_name = "STATUS")]
    pub statuses: Vec<Status>,
    /// Only records owned by this district, e.g. jh-dhanbad (repeatable).
    #[arg(long = "origin", value_name = "DISTRICT")]
    pub origins: Vec<String>,
    /// Only this district's own records whose review date has passed.
    #[arg(long)]
    pub due_review: bool,
    /// At most this many records (the node's default is 50, its maximum 500).
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// The token printed by the previous page.
    #[arg(long, value_name = "TOKEN")]
    pub page_token: Option<String>,
}

/// Commands on the photos of a record.
#[derive(Debug, Subcommand)]
pub enum PhotoCommand {
    /// Upload a photo (JPEG, PNG or WebP) and attach it to a record; prints its SHA-256.
    Add {
        /// The record id.
        id: String,
        /// The photo file.
        file: PathBuf,
        /// Refuse the upload unless the record's stored version is this one.
        #[arg(long, value_name = "N")]
        expected_version: Option<u64>,
    },
    /// Download a photo of a record, verify its SHA-256 and write it (mode 0600).
    Get {
        /// The record id.
        id: String,
        /// The photo's SHA-256 as `record show` lists it, or enough of its first hex
        /// digits to name one photo of the record.
        #[arg(value_parser = parse_sha256_prefix)]
        sha256: String,
        /// Where to write the photo; an existing file is refused unless --force.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
    },
}

/// The fields of a person record as flags; each flag given replaces that field.
#[derive(Debug, Clone, Default, Args)]
pub struct RecordFields {
    /// Read the record from a JSON file in the shape `--json` prints ("-" for standard input);
    /// flags given beside it override the file.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The name as written.
    #[arg(long)]
    pub name: Option<String>,
    /// The name in a local script, e.g. Devanagari.
    #[arg(long, value_name = "NAME")]
    pub name_local: Option<String>,
    /// Another name the person goes by (repeatable; "" alone clears the list).
    #[arg(long = "alias", value_name = "ALIAS")]
    pub aliases: Vec<String>,
    /// The father's name.
    #[arg(long, value_name = "NAME")]
    pub father_name: Option<String>,
    /// The person's gender.
    #[arg(long)]
    pub gender: Option<Gender>,
    /// Year of birth (0 for unknown).
    #[arg(long, value_name = "YEAR")]
    pub birth_year: Option<u32>,
    /// Lower bound of the age range (0 for unknown).
    #[arg(long, value_name = "YEARS")]
    pub age_min: Option<u32>,
    /// Upper bound of the age range (0 for unknown).
    #[arg(long, value_name = "YEARS")]
    pub age_max: Option<u32>,
    /// Where the person stands with the police.
    #[arg(long)]
    pub status: Option<Status>,
    /// A phone number (repeatable; "" alone clears the list).
    #[arg(long = "phone", value_name = "PHONE")]
    pub phones: Vec<String>,
    /// A vehicle registration number (repeatable; "" alone clears the list).
    #[arg(long = "vehicle", value_name = "REGISTRATION")]
    pub vehicles: Vec<String>,
    /// A caution for officers: armed, violent, escape-risk or self-harm-risk (repeatable;
    /// "" alone clears the list).
    #[arg(long = "warning", value_name = "WARNING", value_parser = parse_warning_or_none)]
    pub warnings: Vec<Option<Warning>>,
    /// Who may receive the record.
    #[arg(long)]
    pub handling: Option<Handling>,
    /// The district's own dossier number.
    #[arg(long, value_name = "REF")]
    pub external_ref: Option<String>,
    /// An identifying mark, e.g. "scar on left cheek" (repeatable).
    #[arg(long = "mark", value_name = "MARK")]
    pub marks: Vec<String>,
    /// Reward announced, in rupees (0 for none).
    #[arg(long, value_name = "RUPEES")]
    pub reward: Option<u64>,
    /// An address as "locality, police station, district, state"; missing parts stay empty
    /// (repeatable).
    #[arg(long = "address", value_name = "ADDRESS", value_parser = parse_address)]
    pub addresses: Vec<AddressView>,
    /// A linked FIR in the format of [`crate::parse::CASE_FORMAT`] (repeatable).
    #[arg(
        long = "case",
        value_name = "CASE",
        value_parser = parse_case,
        help = CASE_HELP
    )]
    pub cases: Vec<CaseView>,
    /// The id of an associated person record (repeatable).
    #[arg(long = "associate", value_name = "ID")]
    pub associates: Vec<String>,
}

/// Commands on modus-operandi notes.
#[derive(Debug, Subcommand)]
pub enum MoCommand {
    /// Create an MO note and print its id.
    Add(MoFields),
    /// Show one MO note.
    Show {
        /// The note id.
        id: String,
    },
    /// Change an MO note: the given fields replace the stored ones.
    Update {
        /// The note id.
        id: String,
        /// The fields to replace.
        #[command(flatten)]
        fields: MoFields,
        /// The version last read; defaults to the version in --file, else the stored version.
        #[arg(long, value_name = "N")]
        expected_version: Option<u64>,
    },
    /// Expunge an MO note, leaving a tombstone.
    Delete {
        /// The note id.
        id: String,
        /// Why the note is expunged (mandatory).
        #[arg(long, value_parser = parse_non_blank)]
        reason: String,
        /// Refuse the delete unless the stored version is this one.
        #[arg(long, value_name = "N")]
        expected_version: Option<u64>,
    },
    /// List MO notes, one page at a time.
    List(ListMo),
}

/// The filters and paging of `mo list`.
#[derive(Debug, Clone, Default, Args)]
pub struct ListMo {
    /// Only notes linked to this person record.
    #[arg(long, value_name = "ID")]
    pub record: Option<String>,
    /// Only notes of this category (repeatable).
    #[arg(long = "category", value_name = "CATEGORY")]
    pub categories: Vec<MoCategory>,
    /// At most this many notes.
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// The token printed by the previous page.
    #[arg(long, value_name = "TOKEN")]
    pub page_token: Option<String>,
}

/// The fields of an MO note as flags; each flag given replaces that field.
#[derive(Debug, Clone, Default, Args)]
pub struct MoFields {
    /// Read the note from a JSON file in the shape `--json` prints ("-" for standard input);
    /// flags given beside it override the file.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The kind of crime.
    #[arg(long)]
    pub category: Option<MoCategory>,
    /// The kind of crime in words, required by the node when the category is `other`.
    #[arg(long, value_name = "TEXT")]
    pub category_other: Option<String>,
    /// What the gang does, in a few sentences.
    #[arg(long, value_name = "TEXT")]
    pub summary: Option<String>,
    /// The id of a person record the note concerns (repeatable).
    #[arg(long = "record", value_name = "ID")]
    pub records: Vec<String>,
    /// A weapon used (repeatable).
    #[arg(long = "weapon", value_name = "WEAPON")]
    pub weapons: Vec<String>,
    /// A vehicle used (repeatable).
    #[arg(long = "mo-vehicle", value_name = "VEHICLE")]
    pub vehicles: Vec<String>,
    /// When they strike, e.g. "late night, 01:00-04:00".
    #[arg(long, value_name = "TEXT")]
    pub time_of_day: Option<String>,
    /// What they go after (repeatable).
    #[arg(long = "target", value_name = "TARGET")]
    pub targets: Vec<String>,
    /// How they get away (repeatable).
    #[arg(long = "escape-route", value_name = "ROUTE")]
    pub escape_routes: Vec<String>,
    /// A place where they struck (repeatable).
    #[arg(long = "place", value_name = "PLACE")]
    pub places: Vec<String>,
    /// First seen, as YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub first_seen: Option<String>,
    /// Last seen, as YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub last_seen: Option<String>,
    /// A linked FIR in the format of [`crate::parse::CASE_FORMAT`] (repeatable).
    #[arg(
        long = "case",
        value_name = "CASE",
        value_parser = parse_case,
        help = CASE_HELP
    )]
    pub cases: Vec<CaseView>,
    /// Who may receive the note.
    #[arg(long)]
    pub handling: Option<Handling>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("setu").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn record_add_flags() -> Result<(), clap::Error> {
        let cli = parse(&[
            "record",
            "add",
            "--name",
            "Raju Mahto",
            "--alias",
            "Kalua",
            "--alias",
            "Raju Bhai",
            "--status",
            "in-custody",
            "--warning",
            "armed",
            "--warning",
            "self-harm-risk",
            "--handling",
            "local-only",
            "--address",
            "Ward 4, Jharia, Dhanbad, Jharkhand",
            "--case",
            "112/2025@Jharia:BNS 309(4):accused",
            "--json",
        ])?;
        assert!(cli.json);
        let Command::Record(RecordCommand::Add(fields)) = cli.command else {
            return Err(Cli::command().error(clap::error::ErrorKind::InvalidValue, "wrong command"));
        };
        assert_eq!(fields.aliases, vec!["Kalua", "Raju Bhai"]);
        assert_eq!(fields.status, Some(Status::InCustody));
        assert_eq!(
            fields.warnings,
            vec![Some(Warning::Armed), Some(Warning::SelfHarmRisk)]
        );
        assert_eq!(fields.handling, Some(Handling::LocalOnly));
        assert_eq!(fields.addresses[0].district, "Dhanbad");
        assert_eq!(fields.cases[0].year, 2025);
        Ok(())
    }

    #[test]
    fn bad_enum_words_name_the_flag_and_list_the_values() {
        let error = match parse(&["record", "add", "--status", "fugitive"]) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        assert!(error.contains("--status"), "{error}");
        assert!(error.contains("in-custody"), "{error}");
    }

    #[test]
    fn bad_case_is_a_usage_error() {
        let error = parse(&["record", "add", "--case", "112 Jharia"]);
        assert!(matches!(error, Err(e) if e.kind() == clap::error::ErrorKind::ValueValidation));
    }

    #[test]
    fn delete_requires_a_reason() {
        assert!(parse(&["record", "delete", "0190"]).is_err());
        assert!(parse(&["record", "delete", "0190", "--reason", " "]).is_err());
        assert!(parse(&["mo", "delete", "0190", "--reason", "duplicate entry"]).is_ok());
    }

    #[test]
    fn mo_flags() -> Result<(), clap::Error> {
        let cli = parse(&[
            "mo",
            "add",
            "--category",
            "atm-robbery",
            "--summary",
            "Gas-cutter on kiosks",
            "--record",
            "a",
            "--record",
            "b",
            "--mo-vehicle",
            "white pickup",
            "--first-seen",
            "2025-01-10",
        ])?;
        let Command::Mo(MoCommand::Add(fields)) = cli.command else {
            return Err(Cli::command().error(clap::error::ErrorKind::InvalidValue, "wrong command"));
        };
        assert_eq!(fields.category, Some(MoCategory::AtmRobbery));
        assert_eq!(fields.records, vec!["a", "b"]);
        assert_eq!(fields.vehicles, vec!["white pickup"]);
        Ok(())
    }

    #[test]
    fn peers_takes_no_arguments() {
        assert!(matches!(
            parse(&["peers", "--json"]),
            Ok(Cli {
                command: Command::Peers,
                json: true,
                ..
            })
        ));
        assert!(parse(&["peers", "br-gaya"]).is_err());
    }

    #[test]
    fn import_flags() -> Result<(), clap::Error> {
        let cli = parse(&[
            "import",
            "people.csv",
            "--map",
            "name=Naam,father_name=Pita",
            "--map",
            "name_local=नाम",
            "--dry-run",
        ])?;
        let Command::Import(args) = cli.command else {
            return Err(Cli::command().error(clap::error::ErrorKind::InvalidValue, "wrong command"));
        };
        assert!(args.dry_run);
        assert_eq!(args.batch_rows, 1000);
        let headers: Vec<&str> = args.map.iter().map(|m| m.header.as_str()).collect();
        assert_eq!(headers, vec!["Naam", "Pita", "नाम"]);
        let bad = parse(&["import", "people.csv", "--map", "nam=Naam"]);
        assert!(matches!(bad, Err(e) if e.to_string().contains("father_name")));
        assert!(parse(&["import", "people.csv", "--batch-rows", "6000"]).is_err());
        Ok(())
    }

    #[test]
    fn export_flags() -> Result<(), clap::Error> {
        let cli = parse(&["export", "--format", "jsonl", "--out", "people.jsonl"])?;
        let Command::Export(args) = cli.command else {
            return Err(Cli::command().error(clap::error::ErrorKind::InvalidValue, "wrong command"));
        };
        assert_eq!(args.format, Some(TableFormat::Jsonl));
        assert!(parse(&["export", "--format", "xlsx"]).is_err());
        Ok(())
    }

    #[test]
    fn photo_get_checks_the_digest() {
        assert!(parse(&["record", "photo", "get", "0190", "xyz", "--out", "x.jpg"]).is_err());
        assert!(parse(&["record", "photo", "get", "0190", "abc", "--out", "x.jpg"]).is_ok());
        let sha = "AB".repeat(32);
        assert!(parse(&["record", "photo", "get", "0190", &sha, "--out", "x.jpg"]).is_ok());
    }
}
