//! Calls refused before any handler saw them: a request larger than `max_message_bytes`
//! and one whose bytes are not a protobuf message each get their error, leave an audit
//! entry naming the officer's badge with the outcome, and are counted in
//! `setu_refused_before_handler_total`.
#![forbid(unsafe_code)]

use prost::bytes::{Buf, BufMut};
use setu_node::service::note::code_name;
use setu_proto::v1::{AuditEntry, CreateRecordRequest};
use setu_tests::scrape::{http_get, parse};
use setu_tests::{sample_record, District, Role};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http;
use tonic::{Code, Status};

const DHANBAD: &str = "jh-dhanbad";
/// The smallest limit the config accepts.
const SMALL_LIMIT: usize = 64 * 1024;
const REFUSED: &str = "setu_refused_before_handler_total";

/// Sends and receives raw bytes, so that a test can send what no generated client would.
#[derive(Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        Ok(Some(bytes.to_vec()))
    }
}

/// The counter of refusals of `method` with `code` on the node's `/metrics` (0 before the
/// first).
async fn refused_count(district: &District, method: &str, code: Code) -> anyhow::Result<f64> {
    let response = http_get(district.node.admin_addr(), "/metrics").await?;
    let exposition = parse(&response.body)?;
    let labels = [("method", method), ("code", code_name(code))];
    Ok(exposition.find(REFUSED, &labels).map(|s| s.value).sum())
}

/// The audit entries of `badge` recording a refusal before the handler.
fn refusals_of(district: &District, badge: &str) -> anyhow::Result<Vec<AuditEntry>> {
    Ok(district
        .node
        .storage()
        .audit_range(0, 10_000)?
        .into_iter()
        .filter(|e| e.officer == badge && e.query.starts_with("refused before the handler"))
        .collect())
}

#[tokio::test]
async fn oversize_and_undecodable_requests_are_audited_logged_and_counted() -> anyhow::Result<()> {
    let mut district = District::start(DHANBAD).await?;
    district.node.config_mut().max_message_bytes = SMALL_LIMIT;
    district.node.restart().await?;
    let officer = district.officer("JH-6001", Role::Officer).await?;

    // A record whose name alone is twice the limit never reaches the handler.
    let mut huge = sample_record("Test Oversize Example");
    huge.name = "Imaginary ".repeat(SMALL_LIMIT / 5);
    let oversize = officer
        .records()
        .create(CreateRecordRequest { record: Some(huge) })
        .await
        .expect_err("a request above max_message_bytes is refused");
    assert_ne!(oversize.code(), Code::Ok);
    let entries = refusals_of(&district, "JH-6001")?;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let entry = &entries[0];
    assert_eq!(entry.method, "RecordService/Create");
    assert_eq!(entry.action, "record.create");
    assert_eq!(entry.outcome, code_name(oversize.code()));
    assert_eq!(entry.district, DHANBAD);
    assert_eq!(entry.role, "officer");
    assert!(!entry.officer_name.is_empty(), "{entry:?}");
    assert!(
        entry.query.chars().count() <= 140,
        "the entry does not echo the request: {entry:?}"
    );
    assert!(!entry.query.contains("Imaginary"), "{entry:?}");
    assert_eq!(
        refused_count(&district, "RecordService/Create", oversize.code()).await?,
        1.0
    );

    // Bytes that are not a CreateRecordRequest (a length that runs past the end).
    let before = refused_count(&district, "RecordService/Create", Code::Internal).await?;
    let mut grpc = tonic::client::Grpc::new(officer.channel.clone());
    grpc.ready().await?;
    let undecodable = grpc
        .unary(
            tonic::Request::new(vec![0x0a, 0xff, 0xff, 0xff]),
            http::uri::PathAndQuery::from_static("/setu.v1.RecordService/Create"),
            RawCodec,
        )
        .await
        .expect_err("an undecodable request is refused");
    assert_eq!(undecodable.code(), Code::Internal, "{undecodable:?}");
    let entries = refusals_of(&district, "JH-6001")?;
    assert_eq!(entries.len(), 2, "{entries:#?}");
    assert_eq!(entries[1].method, "RecordService/Create");
    assert_eq!(entries[1].outcome, "INTERNAL");
    assert_eq!(
        refused_count(&district, "RecordService/Create", Code::Internal).await?,
        before + 1.0
    );

    // A call its handler refuses is audited once, by the handler, not by the layer.
    let refused_by_handler = officer
        .records()
        .create(CreateRecordRequest { record: None })
        .await
        .expect_err("a create without a record is refused");
    assert_eq!(refused_by_handler.code(), Code::InvalidArgument);
    assert_eq!(refusals_of(&district, "JH-6001")?.len(), 2);
    assert_eq!(
        refused_count(&district, "RecordService/Create", Code::InvalidArgument).await?,
        0.0
    );
    assert_eq!(
        district
            .node
            .storage()
            .verify_audit()?
            .map_err(|b| b.to_string()),
        Ok(3)
    );
    Ok(())
}
