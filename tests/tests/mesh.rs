//! A simulated national mesh of 10 districts in five states, each peering with its 3–6
//! nearest neighbours over real mutual TLS: handling codes decide how far a change travels
//! (FEDERATION to every node through relays, PEERS one hop, LOCAL_ONLY nowhere), an expunge
//! reaches every node that held the record, and relaying is hygienic: no peer sends a
//! change twice and no change is applied more than once per node, so there are no storms
//! or loops however many paths lead to a node.
#![forbid(unsafe_code)]

use setu_node::storage::Kind;
use setu_proto::v1::{CreateRecordRequest, DeleteRecordRequest, Handling, PersonRecord};
use setu_tests::mesh::{list_peers, wait_for_record, wait_until_gone, Mesh, SYNC_TIMEOUT};
use setu_tests::national::{envelope_counts, NationalMap, MAX_PEERS, MIN_PEERS};
use setu_tests::wait::wait_until;
use setu_tests::{sample_record, Officer, Role};

/// The size of the mesh and the seed of its map.
const SIZE: usize = 10;
const SEED: u64 = 7;

async fn create(officer: &Officer, name: &str, handling: Handling) -> anyhow::Result<PersonRecord> {
    let mut record = sample_record(name);
    record.handling = handling as i32;
    Ok(officer
        .records()
        .create(CreateRecordRequest {
            record: Some(record),
        })
        .await?
        .into_inner())
}

/// Waits until every link of the mesh has delivered `origin`'s changes up to `head`: each
/// node's watermark for `origin` from each of its peers has reached it. After that no
/// envelope of `origin` is still on its way, so the envelope counters are final.
async fn wait_for_quiet_links(
    mesh: &Mesh,
    map: &NationalMap,
    origin: &str,
    head: u64,
) -> anyhow::Result<()> {
    for i in 0..map.len() {
        let district = map.district(i);
        if district == origin {
            continue;
        }
        let storage = mesh.node(district).storage();
        for peer in map.neighbours(i).into_iter().map(|j| map.district(j)) {
            wait_until(
                SYNC_TIMEOUT,
                &format!("{district} has {origin}'s changes up to {head} from {peer}"),
                || async {
                    storage.watermarks(peer).is_ok_and(|marks| {
                        marks.iter().any(|w| w.origin == origin && w.seq >= head)
                    })
                },
            )
            .await?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn ten_districts_relay_each_change_as_far_as_its_handling_allows_and_no_further(
) -> anyhow::Result<()> {
    let map = NationalMap::generate(SIZE, 5, SEED);
    assert!(map.is_connected(), "{}", map.summary());
    let (low, high) = map.degree_range();
    assert!(
        low >= MIN_PEERS && high <= MAX_PEERS + 1,
        "{}",
        map.summary()
    );
    let edge = map.edge();
    let origin = map.district(edge).to_string();
    let hops = map.hops_from(edge);
    let neighbours: Vec<usize> = map.neighbours(edge);
    let distant: Vec<usize> = (0..SIZE).filter(|&i| hops[i] >= Some(2)).collect();
    assert!(
        !distant.is_empty(),
        "the edge district must have districts two hops away or more: {}",
        map.summary()
    );

    let mesh = map.start().await?;
    let admin = mesh.officer(&origin, "SA-ADM-1", Role::Admin).await?;
    let mut readers = Vec::new();
    for i in 0..SIZE {
        let district = map.district(i);
        readers.push(
            mesh.officer(district, &format!("R-{}", i + 1), Role::Officer)
                .await?,
        );
    }

    // In log order: a PEERS record, a LOCAL_ONLY one, then a FEDERATION one, which doubles
    // as the barrier: every relay streams the origin's log in order, so once the
    // FEDERATION record is at a node, whatever of the two before it could have reached
    // that node has.
    let peers_only = create(&admin, "Test Peers Example", Handling::Peers).await?;
    let local = create(&admin, "Test Local Example", Handling::LocalOnly).await?;
    let shared = create(&admin, "Test Federation Example", Handling::Federation).await?;
    for (i, reader) in readers.iter().enumerate() {
        wait_for_record(
            reader,
            &shared.id,
            &format!("the FEDERATION record reaches {}", map.district(i)),
            |r| r.version == shared.version,
        )
        .await?;
    }
    for &i in &neighbours {
        wait_for_record(
            &readers[i],
            &peers_only.id,
            &format!("the PEERS record reaches neighbour {}", map.district(i)),
            |_| true,
        )
        .await?;
    }
    for &i in &distant {
        let storage = mesh.node(map.district(i)).storage();
        assert!(
            storage.item_state(Kind::Record, &peers_only.id)?.is_none(),
            "{} ({:?} hops away) heard of the PEERS record",
            map.district(i),
            hops[i]
        );
    }
    for i in (0..SIZE).filter(|&i| i != edge) {
        let storage = mesh.node(map.district(i)).storage();
        assert!(
            storage.item_state(Kind::Record, &local.id)?.is_none(),
            "{} heard of the LOCAL_ONLY record",
            map.district(i)
        );
    }

    // The expunge travels as a tombstone to every node that held the record.
    admin
        .records()
        .delete(DeleteRecordRequest {
            id: shared.id.clone(),
            reason: "test: duplicate dossier".to_string(),
            expected_version: 0,
        })
        .await?;
    for (i, reader) in readers.iter().enumerate() {
        let district = map.district(i);
        wait_until_gone(
            reader,
            &shared.id,
            &format!("the expunge reaches {district}"),
        )
        .await?;
        assert!(
            mesh.node(district)
                .storage()
                .tombstone(Kind::Record, &shared.id)?
                .is_some(),
            "{district} holds no tombstone of the expunged record"
        );
    }

    // Relay hygiene, once every link has delivered everything of the origin.
    let head = mesh.node(&origin).storage().last_seq()?;
    wait_for_quiet_links(&mesh, &map, &origin, head).await?;
    // What may travel of the origin: the PEERS record (to its neighbours only), the
    // FEDERATION record and its tombstone; the LOCAL_ONLY record never leaves.
    let travelling = 3;
    let (mut received, mut applied) = (0, 0);
    for (i, hop) in hops.iter().enumerate() {
        let district = map.district(i);
        let counts = envelope_counts(mesh.node(district)).await?;
        let mut node_applied = 0;
        for ((peer, from, outcome), value) in &counts {
            if from != &origin {
                continue;
            }
            match outcome.as_str() {
                "received" => {
                    // Relays forward only the FEDERATION record and its tombstone.
                    let most = if peer == &origin { travelling } else { 2 };
                    assert!(
                        *value <= most,
                        "{district} received {value} envelopes of {origin} from {peer}: some change came twice"
                    );
                    received += value;
                }
                "applied" => node_applied += value,
                _ => {}
            }
        }
        let expected = match hop {
            Some(0) => 0,
            Some(1) => 3,
            _ => 2,
        };
        assert_eq!(
            node_applied, expected,
            "{district} applied {node_applied} changes of {origin}, not {expected}: {counts:?}"
        );
        applied += node_applied;
    }
    let links = map.links.len() as u64;
    assert!(
        received <= 2 * links * travelling,
        "{received} envelopes received over {links} links for {travelling} changes"
    );
    assert!(
        applied <= SIZE as u64 * travelling,
        "{applied} changes applied by {SIZE} nodes"
    );

    // Operators see per-origin lag on every link: once the links are quiet, each node
    // reports the origin as received through its peers with nothing behind.
    for (i, reader) in readers.iter().enumerate() {
        let district = map.district(i);
        if district == origin {
            continue;
        }
        let status = list_peers(reader).await?;
        let lags: Vec<_> = status
            .peers
            .iter()
            .flat_map(|p| p.origin_lags.iter().map(move |l| (&p.district, l)))
            .filter(|(_, l)| l.origin == origin)
            .collect();
        assert!(
            !lags.is_empty(),
            "{district} reports no lag for {origin}: {status:?}"
        );
        for (peer, lag) in lags {
            assert_eq!(
                lag.behind, 0,
                "{district} is behind on {origin} through {peer}: {lag:?}"
            );
        }
    }
    println!(
        "{}; {received} envelopes received, {applied} applied",
        map.summary()
    );
    Ok(())
}
