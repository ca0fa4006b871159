//! Checks a `SearchRequest` against the limits in [`crate::validate::limits`] and turns it into the
//! index's [`SearchQuery`]: names parsed, identifiers normalised, enum values checked, page
//! token decoded. Each refusal names the field and the limit, as in [`crate::validate`].

use crate::error::{NodeError, NodeResult};
use crate::search::document::{phone_key, split_fir_number, station_key, vehicle_key};
use crate::search::{Name, NameQuery, SearchQuery};
use crate::trust::identity::validate_district_id;
use crate::validate::excerpt;
use crate::validate::limits::*;
use setu_proto::v1::{Gender, MoCategory, PersonStatus, SearchRequest, Warning};

/// The prefix of the page tokens searches hand out.
const PAGE_TOKEN_PREFIX: &str = "offset:";

/// The page token of the page starting at `offset`.
pub fn page_token(offset: usize) -> String {
    format!("{PAGE_TOKEN_PREFIX}{offset}")
}

/// Checks length and control characters of a free-text field; returns it trimmed.
fn text<'a>(field: &str, value: &'a str, max_chars: usize) -> NodeResult<&'a str> {
    let value = value.trim();
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(NodeError::invalid(
            field,
            format!("has {chars} characters; the limit is {max_chars}"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(NodeError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value)
}

/// Checks a list filter's length and each enum value in it (0, "unspecified", is refused).
fn enum_list<E: TryFrom<i32>>(field: &str, values: &[i32], what: &str) -> NodeResult<Vec<i32>> {
    if values.len() > MAX_SEARCH_FILTER_VALUES {
        return Err(NodeError::invalid(
            field,
            format!(
                "has {} values; the limit is {MAX_SEARCH_FILTER_VALUES}",
                values.len()
            ),
        ));
    }
    for (i, &value) in values.iter().enumerate() {
        if value == 0 || E::try_from(value).is_err() {
            return Err(NodeError::invalid(
                format!("{field}[{i}]"),
                format!("{value} is not a known {what}"),
            ));
        }
    }
    Ok(values.to_vec())
}

/// A name that has at least one token other than initials, or an error naming `field`.
fn lookup_name(field: &str, value: &str) -> NodeResult<Name> {
    let name = Name::parse(value);
    if name.is_empty() {
        return Err(NodeError::invalid(
            field,
            format!("{} has no letters to search for", excerpt(value)),
        ));
    }
    Ok(name)
}

/// Checks `req` and turns it into a query of the search index.
pub fn search(req: &SearchRequest) -> NodeResult<SearchQuery> {
    let mut query = SearchQuery::default();
    let mut narrowed = false;

    let text_value = text("text", &req.text, MAX_SEARCH_NAME_CHARS)?;
    if !text_value.is_empty() {
        let name = NameQuery::parse(text_value);
        if name.is_empty() {
            return Err(NodeError::invalid(
                "text",
                format!("{} has no name to search for", excerpt(text_value)),
            ));
        }
        narrowed |= name
            .names
            .iter()
            .any(|n| n.tokens.iter().any(|t| !t.initial));
        query.name = Some(name);
    }
    let father = text("father_name", &req.father_name, MAX_SEARCH_NAME_CHARS)?;
    if !father.is_empty() {
        let name = lookup_name("father_name", father)?;
        narrowed |= name.tokens.iter().any(|t| !t.initial);
        query.father = Some(name);
    }
    if query.name.is_some() && !narrowed {
        return Err(NodeError::invalid(
            "text",
            format!(
                "{} has only initials, which match too many people; add a name, a father's name or an identifier",
                excerpt(text_value)
            ),
        ));
    }

    if req.origins.len() > MAX_SEARCH_FILTER_VALUES {
        return Err(NodeError::invalid(
            "origins",
            format!(
                "has {} values; the limit is {MAX_SEARCH_FILTER_VALUES}",
                req.origins.len()
            ),
        ));
    }
    for (i, origin) in req.origins.iter().enumerate() {
        validate_district_id(origin).map_err(|e| NodeError::invalid(format!("origins[{i}]"), e))?;
    }
    query.origins = req.origins.clone();
    query.statuses = enum_list::<PersonStatus>("statuses", &req.statuses, "status")?;
    query.warnings = enum_list::<Warning>("warnings", &req.warnings, "warning")?
        .into_iter()
        .filter(|w| (0..32).contains(w))
        .fold(0, |bits, w| bits | (1 << w));
    query.mo_categories =
        enum_list::<MoCategory>("mo_categories", &req.mo_categories, "MO category")?;
    if Gender::try_from(req.gender).is_err() {
        return Err(NodeError::invalid(
            "gender",
            format!("{} is not a known gender", req.gender),
        ));
    }
    query.gender = req.gender;

    match (req.birth_year, req.birth_year_tolerance) {
        (0, Some(_)) => {
            return Err(NodeError::invalid(
                "birth_year_tolerance",
                "needs birth_year",
            ))
        }
        (0, None) => {}
        (year, tolerance) => {
            let now = crate::clock::current_year();
            if !(MIN_BIRTH_YEAR..=now).contains(&year) {
                return Err(NodeError::invalid(
                    "birth_year",
                    format!("{year} is outside {MIN_BIRTH_YEAR}..={now}"),
                ));
            }
            let tolerance = tolerance.unwrap_or(DEFAULT_BIRTH_YEAR_TOLERANCE);
            if tolerance > MAX_BIRTH_YEAR_TOLERANCE {
                return Err(NodeError::invalid(
                    "birth_year_tolerance",
                    format!("{tolerance} years is above the limit of {MAX_BIRTH_YEAR_TOLERANCE}"),
                ));
            }
            query.born = Some((year - tolerance, year + tolerance));
        }
    }

    let phone = text("phone", &req.phone, MAX_SHORT_CHARS)?;
    if !phone.is_empty() {
        if !phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'))
        {
            return Err(NodeError::invalid(
                "phone",
                format!(
                    "{} may contain only digits, spaces, '+', '-', '.', '(' and ')'",
                    excerpt(phone)
                ),
            ));
        }
        query.phone = Some(phone_key(phone).ok_or_else(|| {
            NodeError::invalid(
                "phone",
                format!(
                    "{} has too few digits; at least 6 are needed",
                    excerpt(phone)
                ),
            )
        })?);
        narrowed = true;
    }
    let vehicle = text("vehicle", &req.vehicle, MAX_SHORT_CHARS)?;
    if !vehicle.is_empty() {
        if !vehicle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
        {
            return Err(NodeError::invalid(
                "vehicle",
                format!(
                    "{} may contain only letters, digits, spaces and dashes",
                    excerpt(vehicle)
                ),
            ));
        }
        query.vehicle = Some(vehicle_key(vehicle).ok_or_else(|| {
            NodeError::invalid(
                "vehicle",
                format!(
                    "{} has too few letters and digits; at least 4 are needed",
                    excerpt(vehicle)
                ),
            )
        })?);
        narrowed = true;
    }
    query.fir = fir(req)?;
    narrowed |= query.fir.is_some();

    let mo_text = text("mo_text", &req.mo_text, MAX_SEARCH_MO_CHARS)?;
    if !mo_text.is_empty() {
        if crate::search::index::text_words(mo_text).is_empty() {
            return Err(NodeError::invalid(
                "mo_text",
                format!("{} has no words to search for", excerpt(mo_text)),
            ));
        }
        query.mo_text = Some(mo_text.to_string());
        narrowed = true;
    }

    let filtered = !query.origins.is_empty()
        || !query.statuses.is_empty()
        || query.warnings != 0
        || !query.mo_categories.is_empty()
        || query.gender != 0
        || query.born.is_some();
    if !narrowed && !filtered {
        return Err(NodeError::invalid(
            "text",
            "the query is empty: give a name, a father's name, a phone, a vehicle, an FIR, MO text or at least one filter",
        ));
    }

    query.limit = match req.page_size {
        0 => DEFAULT_SEARCH_PAGE_SIZE as usize,
        n if n > MAX_SEARCH_PAGE_SIZE => {
            return Err(NodeError::invalid(
                "page_size",
                format!("{n} is above the limit of {MAX_SEARCH_PAGE_SIZE}"),
            ))
        }
        n => n as usize,
    };
    query.offset = offset(&req.page_token)?;
    Ok(query)
}

/// The FIR key of the request, if an FIR number is given.
fn fir(req: &SearchRequest) -> NodeResult<Option<String>> {
    let number = text("fir_number", &req.fir_number, MAX_SHORT_CHARS)?;
    let station = text("police_station", &req.police_station, MAX_SHORT_CHARS)?;
    if number.is_empty() {
        if !station.is_empty() || req.fir_year != 0 {
            return Err(NodeError::invalid(
                "fir_number",
                "is required with police_station or fir_year",
            ));
        }
        return Ok(None);
    }
    let station_key = station_key(station);
    if station_key.is_empty() {
        return Err(NodeError::invalid(
            "police_station",
            "is required with fir_number (FIR numbers repeat across stations)",
        ));
    }
    let (number_key, written_year) = split_fir_number(number);
    if number_key.is_empty() {
        return Err(NodeError::invalid(
            "fir_number",
            format!("{} has no FIR number", excerpt(number)),
        ));
    }
    let now = crate::clock::current_year();
    let year = match req.fir_year {
        0 => written_year,
        y if (MIN_BIRTH_YEAR..=now).contains(&y) => Some(y),
        y => {
            return Err(NodeError::invalid(
                "fir_year",
                format!("{y} is outside {MIN_BIRTH_YEAR}..={now}"),
            ))
        }
    };
    Ok(Some(match year {
        Some(year) => format!("{station_key}|{year}|{number_key}"),
        None => format!("{station_key}|{number_key}"),
    }))
}

/// The offset a page token stands for (0 for none).
fn offset(token: &str) -> NodeResult<usize> {
    if token.is_empty() {
        return Ok(0);
    }
    let offset = token
        .strip_prefix(PAGE_TOKEN_PREFIX)
        .and_then(|n| n.parse::<usize>().ok())
        .ok_or_else(|| {
            NodeError::invalid(
                "page_token",
                format!("{} is not a page token of a search", excerpt(token)),
            )
        })?;
    if offset > MAX_SEARCH_OFFSET {
        return Err(NodeError::invalid(
            "page_token",
            format!("pages beyond {MAX_SEARCH_OFFSET} hits are not served; narrow the query"),
        ));
    }
    Ok(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(req: SearchRequest) -> String {
        match search(&req) {
            Err(NodeError::InvalidArgument { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn refuses_malformed_queries_naming_the_field() {
        assert_eq!(field_of(SearchRequest::default()), "text");
        let long = SearchRequest {
            text: "a".repeat(10_000),
            ..Default::default()
        };
        assert_eq!(field_of(long), "text");
        let status = SearchRequest {
            text: "Raju".into(),
            statuses: vec![99],
            ..Default::default()
        };
        assert_eq!(field_of(status), "statuses[0]");
        let tolerance = SearchRequest {
            text: "Raju".into(),
            birth_year_tolerance: Some(3),
            ..Default::default()
        };
        assert_eq!(field_of(tolerance), "birth_year_tolerance");
        let phone = SearchRequest {
            phone: "12".into(),
            ..Default::default()
        };
        assert_eq!(field_of(phone), "phone");
        let fir = SearchRequest {
            fir_number: "112/2025".into(),
            ..Default::default()
        };
        assert_eq!(field_of(fir), "police_station");
        let initials = SearchRequest {
            text: "R. K.".into(),
            ..Default::default()
        };
        assert_eq!(field_of(initials), "text");
        let token = SearchRequest {
            text: "Raju".into(),
            page_token: "garbage".into(),
            ..Default::default()
        };
        assert_eq!(field_of(token), "page_token");
    }

    #[test]
    fn builds_the_index_query() {
        let q = search(&SearchRequest {
            text: "Raju Yadav s/o Ramesh".into(),
            phone: "+91 98765-43210".into(),
            vehicle: "JH 10 AB 1234".into(),
            fir_number: "112/2025".into(),
            police_station: "Jharia PS".into(),
            birth_year: 1990,
            page_token: page_token(20),
            ..Default::default()
        })
        .unwrap();
        assert!(q.name.as_ref().unwrap().relative.is_some());
        assert_eq!(q.phone.as_deref(), Some("9876543210"));
        assert_eq!(q.vehicle.as_deref(), Some("jh10ab1234"));
        assert_eq!(q.fir.as_deref(), Some("jharia|2025|112"));
        assert_eq!(q.born, Some((1988, 1992)));
        assert_eq!((q.offset, q.limit), (20, 20));
        // Filters alone are a valid search.
        assert!(search(&SearchRequest {
            statuses: vec![PersonStatus::Wanted as i32],
            ..Default::default()
        })
        .is_ok());
    }
}
