//! Alerts across the border: a liaison officer of Dhanbad posts, watchers on Asansol see it
//! live, a node that was down gets it once after it comes back, a watcher that reconnects
//! with its last-seen id misses nothing, acknowledgements flow back to the origin and are
//! judged against the priority's deadline (on a clock the test moves), updates and cancels
//! supersede at every node, districts that are not targeted never receive the alert, and
//! bad alerts are refused with the field named.
//!
//! Real in-process nodes over mutual TLS on 127.0.0.1 with their own sled databases;
//! nothing sleeps to synchronise, every wait has a deadline.
#![forbid(unsafe_code)]

use std::time::Duration;

use setu_proto::v1::alert_event::Event;
use setu_proto::v1::{
    AcknowledgeAlertRequest, Alert, AlertCategory, AlertEvent, AlertKind, AlertPriority,
    AlertState, AlertView, CancelAlertRequest, GetAlertRequest, ListAlertsRequest,
    PostAlertRequest, UpdateAlertRequest, Warning, WatchAlertsRequest,
};
use setu_tests::mesh::{Mesh, SYNC_TIMEOUT};
use setu_tests::wait::wait_for;
use setu_tests::{Officer, Role};
use tokio_stream::StreamExt;
use tonic::{Code, Status, Streaming};

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";
const BOKARO: &str = "jh-bokaro";
const HOUR_MS: i64 = 3_600_000;

fn now_ms() -> i64 {
    setu_node::clock::now_ms()
}

fn robbery(title: &str, priority: AlertPriority, targets: &[&str]) -> PostAlertRequest {
    PostAlertRequest {
        priority: priority as i32,
        category: AlertCategory::Robbery as i32,
        title: title.to_string(),
        body: "Two men on a black motorcycle, heading towards the border.".to_string(),
        incident_place: "Test Nagar, near the ATM".to_string(),
        vehicles: vec!["JH 10 ZZ 0001".to_string()],
        warnings: vec![Warning::Armed as i32],
        action_requested: "stop and detain; inform the originating police station".to_string(),
        targets: targets.iter().map(|t| t.to_string()).collect(),
        expires_at_ms: now_ms() + 2 * HOUR_MS,
        ..Default::default()
    }
}

async fn post(officer: &Officer, request: PostAlertRequest) -> anyhow::Result<Alert> {
    Ok(officer.alerts().post(request).await?.into_inner())
}

async fn get(officer: &Officer, id: &str) -> Result<AlertView, Status> {
    Ok(officer
        .alerts()
        .get(GetAlertRequest {
            alert_id: id.to_string(),
        })
        .await?
        .into_inner())
}

async fn watch(
    officer: &Officer,
    after_id: &str,
    live_only: bool,
) -> anyhow::Result<Streaming<AlertEvent>> {
    Ok(officer
        .alerts()
        .watch(WatchAlertsRequest {
            after_id: after_id.to_string(),
            live_only,
            after_position: 0,
        })
        .await?
        .into_inner())
}

/// The next event of a watch stream, within the sync deadline.
async fn next_event(stream: &mut Streaming<AlertEvent>) -> anyhow::Result<AlertEvent> {
    match tokio::time::timeout(SYNC_TIMEOUT, stream.next()).await {
        Ok(Some(event)) => Ok(event?),
        Ok(None) => anyhow::bail!("the watch stream ended"),
        Err(_) => anyhow::bail!("no alert event within {SYNC_TIMEOUT:?}"),
    }
}

/// The id of an event (alert message or acknowledgement).
fn event_id(event: &AlertEvent) -> String {
    match &event.event {
        Some(Event::Alert(a)) => a.id.clone(),
        Some(Event::Ack(a)) => a.id.clone(),
        None => String::new(),
    }
}

/// Reads events until the one with id `until` arrives; returns the ids read, in order.
async fn ids_until(stream: &mut Streaming<AlertEvent>, until: &str) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    loop {
        let id = event_id(&next_event(stream).await?);
        ids.push(id.clone());
        if id == until {
            return Ok(ids);
        }
    }
}

async fn wait_for_alert(officer: &Officer, id: &str, what: &str) -> anyhow::Result<AlertView> {
    wait_for(SYNC_TIMEOUT, what, || get(officer, id)).await
}

/// Dhanbad (Jharkhand) and Asansol-Durgapur (West Bengal), peering both ways; with
/// `bokaro`, Dhanbad also peers with Bokaro (Jharkhand).
async fn federation(bokaro: bool) -> anyhow::Result<Mesh> {
    let mut plan = Mesh::two_states(DHANBAD, ASANSOL)?;
    if bokaro {
        plan.node(BOKARO, "jh")?;
        plan.peers(DHANBAD, BOKARO);
    }
    plan.start().await
}

#[tokio::test]
async fn a_posted_alert_reaches_the_watcher_across_the_border_and_its_ack_flows_back(
) -> anyhow::Result<()> {
    let mut mesh = federation(false).await?;
    let liaison_a = mesh.officer(DHANBAD, "JH-5001", Role::Liaison).await?;
    let officer_b = mesh.officer(ASANSOL, "WB-5101", Role::Officer).await?;
    let liaison_b = mesh.officer(ASANSOL, "WB-5102", Role::Liaison).await?;
    let mut watcher_b = watch(&officer_b, "", true).await?;
    let mut watcher_a = watch(&liaison_a, "", true).await?;

    let posted = post(
        &liaison_a,
        robbery("ATM robbery at Test Nagar", AlertPriority::Flash, &[]),
    )
    .await?;
    assert_eq!(posted.origin, DHANBAD);
    assert_eq!(posted.kind, AlertKind::Alert as i32);
    assert_eq!(posted.author_badge, "JH-5001");
    assert_eq!(
        posted.targets,
        vec![ASANSOL.to_string()],
        "no target means every peer"
    );

    // The watcher on B receives it, exactly as posted.
    let event = next_event(&mut watcher_b).await?;
    assert_eq!(event.event, Some(Event::Alert(posted.clone())));
    // The origin's own watcher sees it too.
    assert_eq!(event_id(&next_event(&mut watcher_a).await?), posted.id);

    // Before anyone acknowledges, A lists B as awaiting, not overdue.
    let view = get(&liaison_a, &posted.id).await?;
    assert_eq!(view.state, AlertState::Open as i32);
    assert!(view.all_acks_known);
    assert_eq!(view.targets.len(), 1);
    assert!(view.targets[0].ack.is_none() && !view.targets[0].overdue);
    assert_eq!(view.ack_deadline_ms, posted.posted_at_ms + 10 * 60_000);

    // An ordinary officer may watch but not acknowledge; a liaison of B may.
    let refused = officer_b
        .alerts()
        .acknowledge(AcknowledgeAlertRequest {
            alert_id: posted.id.clone(),
            note: String::new(),
        })
        .await
        .expect_err("an officer certificate cannot acknowledge");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(
        refused.message().contains("liaison"),
        "{}",
        refused.message()
    );
    let ack = liaison_b
        .alerts()
        .acknowledge(AcknowledgeAlertRequest {
            alert_id: posted.id.clone(),
            note: "nakabandi at Test bridge".to_string(),
        })
        .await?
        .into_inner();
    assert_eq!(ack.origin, ASANSOL);
    assert_eq!(ack.targets, vec![DHANBAD.to_string()]);

    // The ack travels back: A's watcher sees it and A's view shows who, when and the note.
    let event = next_event(&mut watcher_a).await?;
    assert_eq!(event.event, Some(Event::Ack(ack.clone())));
    let view = get(&liaison_a, &posted.id).await?;
    let target = &view.targets[0];
    assert_eq!(target.district, ASANSOL);
    let seen = target.ack.as_ref().expect("B's ack is shown at A");
    assert_eq!(seen.officer_badge, "WB-5102");
    assert_eq!(seen.note, "nakabandi at Test bridge");
    assert!(!target.overdue);

    // A watcher on A that saw the ack disconnects; meanwhile A posts another alert and B
    // acknowledges again (which replaces its ack). Resuming from the feed position it saw
    // delivers both, in order; nothing is skipped because the ack it saw was replaced.
    let seen_position = event.position;
    drop(watcher_a);
    let meanwhile = post(
        &liaison_a,
        robbery("Meanwhile at Test Mandi", AlertPriority::Routine, &[]),
    )
    .await?;
    let again = liaison_b
        .alerts()
        .acknowledge(AcknowledgeAlertRequest {
            alert_id: posted.id.clone(),
            note: "suspects' motorcycle found abandoned".to_string(),
        })
        .await?
        .into_inner();
    assert_eq!(again.id, ack.id, "one ack per district and alert");
    wait_for(SYNC_TIMEOUT, "the second ack reaches A", || async {
        let view = get(&liaison_a, &posted.id).await?;
        match view.targets[0].ack.as_ref() {
            Some(a) if a.note == again.note => Ok(()),
            _ => Err(Status::unavailable("not yet")),
        }
    })
    .await?;
    let mut resumed = liaison_a
        .alerts()
        .watch(WatchAlertsRequest {
            after_id: ack.id.clone(),
            live_only: false,
            after_position: seen_position,
        })
        .await?
        .into_inner();
    assert_eq!(
        ids_until(&mut resumed, &again.id).await?,
        vec![meanwhile.id.clone(), again.id.clone()]
    );

    // An IMMEDIATE alert nobody acknowledges: overdue once A's clock passes the hour.
    let slow = post(
        &liaison_a,
        robbery(
            "Jewellery shop theft at Test Bazar",
            AlertPriority::Immediate,
            &[ASANSOL],
        ),
    )
    .await?;
    wait_for_alert(&officer_b, &slow.id, "the second alert reaches B").await?;
    let view = get(&liaison_a, &slow.id).await?;
    assert!(!view.targets[0].overdue, "not overdue before the deadline");
    mesh.node(DHANBAD)
        .config()
        .clock
        .advance(Duration::from_secs(61 * 60));
    let view = get(&liaison_a, &slow.id).await?;
    assert!(view.targets[0].overdue, "overdue after the deadline");
    assert!(
        (60_000..120_000).contains(&view.targets[0].overdue_by_ms),
        "about a minute past the deadline: {}",
        view.targets[0].overdue_by_ms
    );
    let overdue = liaison_a
        .alerts()
        .list(ListAlertsRequest {
            overdue_only: true,
            ..Default::default()
        })
        .await?
        .into_inner();
    let ids: Vec<_> = overdue
        .alerts
        .iter()
        .map(|v| v.alert.as_ref().map(|a| a.id.clone()).unwrap_or_default())
        .collect();
    assert_eq!(
        ids,
        vec![slow.id.clone()],
        "the acknowledged FLASH alert is not overdue"
    );
    let open = liaison_a
        .alerts()
        .list(ListAlertsRequest {
            open_only: true,
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(open.alerts.len(), 3, "every alert is still open");
    mesh.node_mut(ASANSOL).stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_node_that_was_down_gets_the_alert_once_and_a_reconnecting_watcher_misses_nothing(
) -> anyhow::Result<()> {
    let mut mesh = federation(false).await?;
    let liaison_a = mesh.officer(DHANBAD, "JH-5201", Role::Liaison).await?;
    let officer_b = mesh.officer(ASANSOL, "WB-5301", Role::Officer).await?;

    // A watcher on B sees the first alert, then goes away (a laptop asleep).
    let first = post(
        &liaison_a,
        robbery("First alert", AlertPriority::Routine, &[]),
    )
    .await?;
    wait_for_alert(&officer_b, &first.id, "the first alert reaches B").await?;
    let mut watcher = watch(&officer_b, "", false).await?;
    assert_eq!(
        ids_until(&mut watcher, &first.id).await?,
        vec![first.id.clone()]
    );
    drop(watcher);

    // B goes down; A posts two alerts; B comes back and delivers them to the watcher that
    // resumes after the last event it saw, each exactly once, in order.
    mesh.node_mut(ASANSOL).stop().await?;
    let second = post(
        &liaison_a,
        robbery("Second alert", AlertPriority::Flash, &[]),
    )
    .await?;
    let third = post(
        &liaison_a,
        robbery("Third alert", AlertPriority::Immediate, &[]),
    )
    .await?;
    mesh.node_mut(ASANSOL).start_again().await?;
    let mut resumed = watch(&officer_b, &first.id, false).await?;
    assert_eq!(
        ids_until(&mut resumed, &third.id).await?,
        vec![second.id.clone(), third.id.clone()]
    );

    // The full replay holds each alert once, even after the restart.
    let mut replay = watch(&officer_b, "", false).await?;
    let ids = ids_until(&mut replay, &third.id).await?;
    assert_eq!(
        ids,
        vec![first.id.clone(), second.id.clone(), third.id.clone()]
    );

    // A restart of B (its sync then begins again from its watermarks, and anti-entropy
    // may resend) does not repeat anything: the next event after the third is a new one.
    drop(resumed);
    drop(replay);
    mesh.node_mut(ASANSOL).restart().await?;
    let mut after_restart = watch(&officer_b, &third.id, false).await?;
    let fourth = post(
        &liaison_a,
        robbery("Fourth alert", AlertPriority::Routine, &[]),
    )
    .await?;
    assert_eq!(
        ids_until(&mut after_restart, &fourth.id).await?,
        vec![fourth.id.clone()]
    );

    // An unknown resume point is refused with the field named.
    let refused = officer_b
        .alerts()
        .watch(WatchAlertsRequest {
            after_id: uuid::Uuid::now_v7().to_string(),
            live_only: false,
            after_position: 0,
        })
        .await
        .expect_err("an unknown after_id is refused");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().starts_with("after_id:"),
        "{}",
        refused.message()
    );
    Ok(())
}

#[tokio::test]
async fn only_targeted_districts_receive_and_cancels_and_updates_supersede() -> anyhow::Result<()> {
    let mesh = federation(true).await?;
    let liaison_a = mesh.officer(DHANBAD, "JH-5401", Role::Liaison).await?;
    let officer_b = mesh.officer(ASANSOL, "WB-5501", Role::Officer).await?;
    let liaison_b = mesh.officer(ASANSOL, "WB-5502", Role::Liaison).await?;
    let officer_c = mesh.officer(BOKARO, "JH-5601", Role::Officer).await?;
    let mut watcher_b = watch(&officer_b, "", true).await?;
    let mut watcher_c = watch(&officer_c, "", true).await?;

    // An alert for Asansol only, then one for Bokaro: Bokaro gets the second and never the
    // first (it was sent in order, so it would have arrived before).
    let for_b = post(
        &liaison_a,
        robbery("For Asansol only", AlertPriority::Flash, &[ASANSOL]),
    )
    .await?;
    let for_c = post(
        &liaison_a,
        robbery("For Bokaro only", AlertPriority::Flash, &[BOKARO]),
    )
    .await?;
    assert_eq!(
        ids_until(&mut watcher_c, &for_c.id).await?,
        vec![for_c.id.clone()]
    );
    let not_here = get(&officer_c, &for_b.id)
        .await
        .expect_err("Bokaro was not targeted");
    assert_eq!(not_here.code(), Code::NotFound);
    assert_eq!(
        ids_until(&mut watcher_b, &for_b.id).await?,
        vec![for_b.id.clone()]
    );
    assert_eq!(
        get(&officer_b, &for_c.id)
            .await
            .expect_err("Asansol was not targeted")
            .code(),
        Code::NotFound
    );

    // An update supersedes at B: the view shows the new content and the history.
    let update = liaison_a
        .alerts()
        .update(UpdateAlertRequest {
            alert_id: for_b.id.clone(),
            title: "For Asansol only: suspects seen at Test Chowk".to_string(),
            reason: "sighting".to_string(),
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(update.kind, AlertKind::Update as i32);
    assert_eq!(update.refers_to, for_b.id);
    assert_eq!(update.body, for_b.body, "unchanged fields are kept");
    let event = next_event(&mut watcher_b).await?;
    assert_eq!(event.event, Some(Event::Alert(update.clone())));
    let view = get(&officer_b, &for_b.id).await?;
    assert_eq!(
        view.alert.as_ref().map(|a| a.title.as_str()),
        Some(update.title.as_str())
    );
    assert_eq!(view.history.len(), 2);
    assert!(
        !view.all_acks_known,
        "a receiving node knows only its own ack"
    );

    // Only the origin updates or cancels.
    let refused = liaison_b
        .alerts()
        .cancel(CancelAlertRequest {
            alert_id: for_b.id.clone(),
            reason: "not ours".to_string(),
        })
        .await
        .expect_err("B cannot cancel A's alert");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // A cancel propagates: B's watcher gets it, B's view is cancelled, acks are refused.
    let cancel = liaison_a
        .alerts()
        .cancel(CancelAlertRequest {
            alert_id: for_b.id.clone(),
            reason: "suspects arrested at Test Chowk".to_string(),
        })
        .await?
        .into_inner();
    let event = next_event(&mut watcher_b).await?;
    assert_eq!(event.event, Some(Event::Alert(cancel.clone())));
    let view = get(&officer_b, &for_b.id).await?;
    assert_eq!(view.state, AlertState::Cancelled as i32);
    let refused = liaison_b
        .alerts()
        .acknowledge(AcknowledgeAlertRequest {
            alert_id: for_b.id.clone(),
            note: String::new(),
        })
        .await
        .expect_err("a cancelled alert cannot be acknowledged");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    // A replay of open alerts leaves the cancelled one out.
    let mut replay = watch(&officer_b, "", false).await?;
    let marker = post(
        &liaison_a,
        robbery("Marker", AlertPriority::Routine, &[ASANSOL]),
    )
    .await?;
    assert_eq!(
        ids_until(&mut replay, &marker.id).await?,
        vec![marker.id.clone()]
    );
    Ok(())
}

#[tokio::test]
async fn expired_alerts_are_not_delivered_and_list_as_expired() -> anyhow::Result<()> {
    let mesh = federation(false).await?;
    let liaison_a = mesh.officer(DHANBAD, "JH-5701", Role::Liaison).await?;
    let officer_b = mesh.officer(ASANSOL, "WB-5801", Role::Officer).await?;
    // B's clock is three hours ahead: an alert expiring in two hours is already over there.
    mesh.node(ASANSOL)
        .config()
        .clock
        .advance(Duration::from_secs(3 * 3600));
    let mut watcher = watch(&officer_b, "", true).await?;
    let short = post(
        &liaison_a,
        robbery("Short-lived", AlertPriority::Flash, &[]),
    )
    .await?;
    let mut long_request = robbery("Long-lived", AlertPriority::Routine, &[]);
    long_request.expires_at_ms = now_ms() + 24 * HOUR_MS;
    let long = post(&liaison_a, long_request).await?;
    assert_eq!(
        ids_until(&mut watcher, &long.id).await?,
        vec![long.id.clone()],
        "the expired alert is not streamed"
    );
    let view = get(&officer_b, &short.id).await?;
    assert_eq!(view.state, AlertState::Expired as i32);
    let open = officer_b
        .alerts()
        .list(ListAlertsRequest {
            open_only: true,
            ..Default::default()
        })
        .await?
        .into_inner();
    assert_eq!(open.alerts.len(), 1);
    let all = officer_b
        .alerts()
        .list(ListAlertsRequest::default())
        .await?
        .into_inner();
    let states: Vec<i32> = all.alerts.iter().map(|v| v.state).collect();
    assert_eq!(
        states,
        vec![AlertState::Open as i32, AlertState::Expired as i32],
        "newest first"
    );
    Ok(())
}

#[tokio::test]
async fn officers_cannot_post_and_bad_alerts_are_refused_with_the_field_named() -> anyhow::Result<()>
{
    let mesh = federation(false).await?;
    let officer_a = mesh.officer(DHANBAD, "JH-5901", Role::Officer).await?;
    let liaison_a = mesh.officer(DHANBAD, "JH-5902", Role::Liaison).await?;
    let admin_a = mesh.officer(DHANBAD, "JH-5903", Role::Admin).await?;
    let liaison_b = mesh.officer(ASANSOL, "WB-5951", Role::Liaison).await?;

    let refused = officer_a
        .alerts()
        .post(robbery("Not allowed", AlertPriority::Flash, &[]))
        .await
        .expect_err("an officer certificate cannot post");
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(
        refused.message().contains("liaison"),
        "{}",
        refused.message()
    );
    // An admin may post; a liaison of another district may not post on this node.
    post(
        &admin_a,
        robbery("Posted by an admin", AlertPriority::Routine, &[]),
    )
    .await?;

    let base = || robbery("Valid title", AlertPriority::Flash, &[]);
    let cases: Vec<(PostAlertRequest, &str)> = vec![
        (
            PostAlertRequest {
                title: String::new(),
                ..base()
            },
            "title: is required",
        ),
        (
            PostAlertRequest {
                expires_at_ms: now_ms() - 60_000,
                ..base()
            },
            "expires_at_ms: is ",
        ),
        (
            PostAlertRequest {
                expires_at_ms: now_ms() + 31 * 24 * HOUR_MS,
                ..base()
            },
            "expires_at_ms: is 31.0 days ahead; the limit is 30 days",
        ),
        (
            PostAlertRequest {
                expires_at_ms: 0,
                ..base()
            },
            "expires_at_ms: is required",
        ),
        (
            PostAlertRequest {
                body: "x".repeat(1 << 20),
                ..base()
            },
            "body: is 1048576 characters long; the limit is 4000",
        ),
        (
            PostAlertRequest {
                targets: vec!["br-gaya".to_string()],
                ..base()
            },
            "targets[0]: 'br-gaya' is not a peer of jh-dhanbad",
        ),
        (
            PostAlertRequest {
                priority: 0,
                ..base()
            },
            "priority: is required",
        ),
        (
            PostAlertRequest {
                record_ids: vec![uuid::Uuid::now_v7().to_string()],
                ..base()
            },
            "record_ids[0]: no record",
        ),
    ];
    for (request, expected) in cases {
        let status = liaison_a
            .alerts()
            .post(request)
            .await
            .expect_err("a bad alert is refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
        assert!(
            status.message().starts_with(expected),
            "{:?} should start with {expected:?}",
            status.message()
        );
    }
    let other_district = liaison_b
        .alerts()
        .post(robbery("Wrong node", AlertPriority::Flash, &[]))
        .await;
    // B's liaison on B's own node is fine; on A's node it would be refused (checked by
    // the unit tests of the role rule). Here B posts to its own peers.
    assert!(other_district.is_ok(), "{other_district:?}");
    // Nothing of the refused alerts was stored.
    let listed = liaison_a
        .alerts()
        .list(ListAlertsRequest::default())
        .await?
        .into_inner();
    let titles: Vec<String> = listed
        .alerts
        .iter()
        .filter_map(|v| v.alert.as_ref().map(|a| a.title.clone()))
        .filter(|t| t != "Wrong node")
        .collect();
    assert_eq!(titles, vec!["Posted by an admin".to_string()]);
    Ok(())
}
