//! Scraping a node's admin listener as Prometheus would: a plain HTTP/1.1 `GET` over a TCP
//! stream, and a parser of the OpenMetrics text format strict enough to catch a malformed
//! exposition (a sample outside its family, a bad label, a missing `# EOF`).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use anyhow::{bail, ensure, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An HTTP response: status code, headers (names in lower case) and body.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code, e.g. 200.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: HashMap<String, String>,
    /// The body as text.
    pub body: String,
}

/// `GET path` from `addr` over HTTP/1.1, reading until the server closes.
pub async fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<HttpResponse> {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8(raw).context("the response is not UTF-8")?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .context("the response has no end of headers")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line: {status_line}"))?;
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    ensure!(
        headers.get("transfer-encoding").map(String::as_str) != Some("chunked"),
        "chunked responses are not expected from the admin listener"
    );
    if let Some(length) = headers.get("content-length") {
        ensure!(
            length.parse::<usize>().ok() == Some(body.len()),
            "content-length {length} but {} bytes of body",
            body.len()
        );
    }
    Ok(HttpResponse {
        status,
        headers,
        body: body.to_string(),
    })
}

/// One sample line: metric name, labels and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's name, e.g. `setu_rpc_requests_total`.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

/// A parsed exposition: each family's type, and every sample in order.
#[derive(Debug, Default)]
pub struct Exposition {
    /// Family name → type (`counter`, `gauge`, `histogram`, ...).
    pub types: HashMap<String, String>,
    /// Every sample.
    pub samples: Vec<Sample>,
}

impl Exposition {
    /// The samples named `name` whose labels include every pair of `labels`.
    pub fn find<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
    }

    /// The value of the one sample named `name` with these labels; an error when there is
    /// none or more than one.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> anyhow::Result<f64> {
        let found: Vec<_> = self.find(name, labels).collect();
        match found.as_slice() {
            [one] => Ok(one.value),
            [] => bail!("no sample {name} with {labels:?}"),
            many => bail!("{} samples {name} with {labels:?}", many.len()),
        }
    }
}

/// Suffixes a sample name may add to its family's name.
const SUFFIXES: [&str; 7] = [
    "", "_total", "_created", "_bucket", "_count", "_sum", "_info",
];

/// Parses OpenMetrics text. Every sample must belong to a family declared by a `# TYPE`
/// line before it, and the text must end with `# EOF`.
pub fn parse(text: &str) -> anyhow::Result<Exposition> {
    let mut exposition = Exposition::default();
    let mut saw_eof = false;
    for line in text.lines() {
        ensure!(!saw_eof, "text after # EOF: {line}");
        if line == "# EOF" {
            saw_eof = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let keyword = parts.next().unwrap_or_default();
            let family = parts.next().context("a # line without a metric name")?;
            let value = parts.next().unwrap_or_default();
            match keyword {
                "TYPE" => {
                    exposition
                        .types
                        .insert(family.to_string(), value.to_string());
                }
                "HELP" | "UNIT" => {}
                other => bail!("unknown descriptor {other}: {line}"),
            }
            continue;
        }
        ensure!(!line.is_empty(), "an empty line in the exposition");
        let sample = parse_sample(line).with_context(|| format!("sample line: {line}"))?;
        let declared = SUFFIXES.iter().any(|suffix| {
            sample
                .name
                .strip_suffix(suffix)
                .is_some_and(|family| exposition.types.contains_key(family))
        });
        ensure!(declared, "{} has no # TYPE line before it", sample.name);
        exposition.samples.push(sample);
    }
    ensure!(saw_eof, "the exposition does not end with # EOF");
    Ok(exposition)
}

fn parse_sample(line: &str) -> anyhow::Result<Sample> {
    let name_end = line.find(['{', ' ']).context("a sample without a value")?;
    let name = &line[..name_end];
    ensure!(
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
        "bad metric name {name:?}"
    );
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(after_brace)?;
        labels = parsed;
        rest = after;
    }
    let mut fields = rest.trim_start().split(' ');
    let value = parse_value(fields.next().unwrap_or_default())?;
    Ok(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// Parses `name="value",...}` and returns the labels and the text after the `}`.
fn parse_labels(mut text: &str) -> anyhow::Result<(BTreeMap<String, String>, &str)> {
    let mut labels = BTreeMap::new();
    loop {
        if let Some(after) = text.strip_prefix('}') {
            return Ok((labels, after));
        }
        let (name, after) = text.split_once("=\"").context("a label without =\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c @ ('\\' | '"'))) => value.push(c),
                    other => bail!("bad escape in a label value: {other:?}"),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => bail!("an unterminated label value"),
            }
        };
        ensure!(
            labels.insert(name.to_string(), value).is_none(),
            "label {name} given twice"
        );
        text = &after[end + 1..];
        text = text.strip_prefix(',').unwrap_or(text);
    }
}

fn parse_value(text: &str) -> anyhow::Result<f64> {
    Ok(match text {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        other => other
            .parse()
            .with_context(|| format!("bad sample value {other:?}"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_families_labels_with_escapes_and_infinities() {
        let text = "# HELP x_requests Calls.\n# TYPE x_requests counter\n\
                    x_requests_total{method=\"A/B\",note=\"say \\\"hi\\\"\\n\"} 3\n\
                    # TYPE x_seconds histogram\n# UNIT x_seconds seconds\n\
                    x_seconds_bucket{le=\"+Inf\"} 2\nx_seconds_sum 0.5\n# EOF\n";
        let e = parse(text).unwrap();
        assert_eq!(e.types["x_requests"], "counter");
        assert_eq!(
            e.value("x_requests_total", &[("method", "A/B")]).unwrap(),
            3.0
        );
        assert_eq!(e.samples[0].labels["note"], "say \"hi\"\n");
        assert_eq!(e.value("x_seconds_bucket", &[("le", "+Inf")]).unwrap(), 2.0);
    }

    #[test]
    fn refuses_undeclared_samples_and_a_missing_eof() {
        assert!(parse("y 1\n# EOF\n").is_err());
        assert!(parse("# TYPE y gauge\ny 1\n").is_err());
        assert!(parse("# TYPE y gauge\ny{a=\"1} 1\n# EOF\n").is_err());
    }
}
