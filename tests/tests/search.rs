//! Cross-border suspect search against real nodes over mutual TLS: names in either script
//! and every spelling-variant class, typos, token order, initials, aliases and fathers'
//! names; filters; exact identifiers in any common form; MO full text; records replicated
//! from a peer found at once and expunged or retracted ones gone at once; the index rebuilt
//! after a restart; every search audited; malformed queries refused with the field named.
//!
//! All names are fictional.
#![forbid(unsafe_code)]

use setu_proto::v1::{
    CaseRef, CreateMoNoteRequest, CreateRecordRequest, DeleteRecordRequest, Gender, Handling,
    ListAuditRequest, MoCategory, PersonRecord, PersonStatus, SearchRequest, SearchResponse,
    UpdateRecordRequest, Warning,
};
use setu_tests::mesh::{Mesh, SYNC_TIMEOUT};
use setu_tests::wait::wait_for;
use setu_tests::{sample_note, District, Officer, Role};
use tonic::Code;

const DHANBAD: &str = "jh-dhanbad";
const ASANSOL: &str = "wb-asansol-durgapur";

/// A bare record with a name and a father's name; everything else empty.
fn person(name: &str, father: &str) -> PersonRecord {
    PersonRecord {
        name: name.to_string(),
        father_name: father.to_string(),
        status: PersonStatus::Active as i32,
        handling: Handling::Federation as i32,
        ..Default::default()
    }
}

async fn create(officer: &Officer, record: PersonRecord) -> anyhow::Result<PersonRecord> {
    Ok(officer
        .records()
        .create(CreateRecordRequest {
            record: Some(record),
        })
        .await?
        .into_inner())
}

async fn search(officer: &Officer, request: SearchRequest) -> anyhow::Result<SearchResponse> {
    Ok(officer.search().search(request).await?.into_inner())
}

fn by_text(text: &str) -> SearchRequest {
    SearchRequest {
        text: text.to_string(),
        ..Default::default()
    }
}

/// The ids of the hits, best first.
fn ids(response: &SearchResponse) -> Vec<String> {
    response
        .hits
        .iter()
        .filter_map(|h| h.record.as_ref().map(|r| r.id.clone()))
        .collect()
}

/// Names of the hits, for failure messages.
fn names(response: &SearchResponse) -> Vec<String> {
    response
        .hits
        .iter()
        .filter_map(|h| h.record.as_ref())
        .map(|r| format!("{} (father {})", r.name, r.father_name))
        .collect()
}

/// Asserts that `text` finds `expected` as the best hit.
async fn assert_first(officer: &Officer, request: SearchRequest, expected: &PersonRecord) {
    let shown = format!("{request:?}");
    let response = search(officer, request).await.expect("the search runs");
    assert_eq!(
        ids(&response).first(),
        Some(&expected.id),
        "{shown} should find {} first; got {:?}",
        expected.name,
        names(&response)
    );
}

/// A node holding the people the name tests look for, and look-alikes that must rank
/// below them.
struct NameWorld {
    district: District,
    officer: Officer,
    ravi: PersonRecord,
    suresh: PersonRecord,
    ajay: PersonRecord,
    seeta: PersonRecord,
    mohammad: PersonRecord,
    minj: PersonRecord,
    chaudhary: PersonRecord,
    vijay: PersonRecord,
    shankar: PersonRecord,
    phoolchand: PersonRecord,
    zakir: PersonRecord,
    pappu: PersonRecord,
}

async fn name_world() -> anyhow::Result<NameWorld> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-5001", Role::Officer).await?;
    let mut ravi = person("Ravi Kumar Yadav", "Ramesh Yadav");
    ravi.aliases = vec!["Raju".into()];
    let ravi = create(&officer, ravi).await?;
    // Look-alikes: same first names or surnames, different people.
    for (name, father) in [
        ("Ravi Kumar Mahto", "Dinesh Mahto"),
        ("Rakesh Yadav", "Ramesh Yadav"),
        ("Raju Yadav", "Naresh Yadav"),
        ("Ravindra Singh", "Ramesh Singh"),
        ("Suresh Mandal", "Gopal Mandal"),
        ("Ajit Kumar", "Jagdish Prasad"),
        ("Sita Kumari", "Mohan Ram"),
        ("Shankar Das", "Bhola Das"),
    ] {
        create(&officer, person(name, father)).await?;
    }
    let mut suresh = person("सुरेश महतो", "गणेश महतो");
    suresh.name_local = "सुरेश महतो".into();
    let suresh = create(&officer, suresh).await?;
    let ajay = create(&officer, person("Ajai Paswan", "Ramdeo Paswan")).await?;
    let seeta = create(&officer, person("Seetha Devi", "Lakhan Mahto")).await?;
    let mohammad = create(
        &officer,
        person("Mohd Salim Ansari", "Mohammad Yusuf Ansari"),
    )
    .await?;
    let minj = create(&officer, person("Anil Minz", "Petrus Minz")).await?;
    let chaudhary = create(&officer, person("Manoj Choudhury", "Binod Choudhury")).await?;
    let vijay = create(&officer, person("Wijay Oraon", "Budhu Oraon")).await?;
    let shankar = create(&officer, person("Sankar Rajwar", "Kailash Rajwar")).await?;
    let phoolchand = create(&officer, person("Fulchand Turi", "Sukar Turi")).await?;
    let zakir = create(&officer, person("Jakir Hussain", "Anwar Hussain")).await?;
    let mut pappu = person("Deepak Kumar Singh", "Lalan Singh");
    pappu.aliases = vec!["Pappu".into(), "Kaalu".into()];
    let pappu = create(&officer, pappu).await?;
    Ok(NameWorld {
        district,
        officer,
        ravi,
        suresh,
        ajay,
        seeta,
        mohammad,
        minj,
        chaudhary,
        vijay,
        shankar,
        phoolchand,
        zakir,
        pappu,
    })
}

#[tokio::test]
async fn names_are_found_in_either_script_and_any_spelling() -> anyhow::Result<()> {
    let w = name_world().await?;
    let o = &w.officer;
    // Devanagari query, Latin record, and the reverse.
    assert_first(o, by_text("रवि कुमार यादव"), &w.ravi).await;
    assert_first(o, by_text("Suresh Mahto"), &w.suresh).await;
    // Spelling variants.
    assert_first(o, by_text("Ajay Paswan"), &w.ajay).await;
    assert_first(o, by_text("Sita Devi"), &w.seeta).await;
    assert_first(o, by_text("Seeta Devi"), &w.seeta).await;
    assert_first(o, by_text("Muhammad Salim Ansari"), &w.mohammad).await;
    assert_first(o, by_text("Anil Minj"), &w.minj).await;
    assert_first(o, by_text("Manoj Chaudhary"), &w.chaudhary).await;
    assert_first(o, by_text("Vijay Oraon"), &w.vijay).await;
    assert_first(o, by_text("Shankar Rajwar"), &w.shankar).await;
    assert_first(o, by_text("Phoolchand Turi"), &w.phoolchand).await;
    assert_first(o, by_text("Zakir Hussain"), &w.zakir).await;
    assert_first(o, by_text("Raavi Kumaar Yaadav"), &w.ravi).await;
    // Typos, token order, initials and joined words.
    assert_first(o, by_text("Ravi Kumar Yadva"), &w.ravi).await;
    assert_first(o, by_text("Yadav Ravi Kumar"), &w.ravi).await;
    assert_first(o, by_text("R. K. Yadav"), &w.ravi).await;
    assert_first(o, by_text("Ravikumar Yadav"), &w.ravi).await;
    // Aliases, alone, with the surname, and with "@".
    assert_first(o, by_text("Pappu"), &w.pappu).await;
    assert_first(o, by_text("Kalu Singh"), &w.pappu).await;
    assert_first(o, by_text("Deepak @ Pappu Singh"), &w.pappu).await;

    // The father's name ranks: "Raju s/o Ramesh" puts Ravi (alias Raju, father Ramesh)
    // above Raju Yadav, whose father is Naresh.
    let response = search(o, by_text("Raju Yadav s/o Ramesh")).await?;
    assert_eq!(
        ids(&response).first(),
        Some(&w.ravi.id),
        "{:?}",
        names(&response)
    );
    let reasons: Vec<&str> = response.hits[0]
        .reasons
        .iter()
        .map(|r| r.field.as_str())
        .collect();
    assert!(reasons.contains(&"alias"), "{reasons:?}");
    assert!(reasons.contains(&"father_name"), "{reasons:?}");
    // As a filter, the father's name must match.
    let response = search(
        o,
        SearchRequest {
            text: "Raju Yadav".into(),
            father_name: "Naresh".into(),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(names(&response), vec!["Raju Yadav (father Naresh Yadav)"]);
    // The father's name alone.
    let response = search(
        o,
        SearchRequest {
            father_name: "Petrus Minj".into(),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(ids(&response), vec![w.minj.id.clone()]);

    // Each hit says why it matched, with the variant.
    let response = search(o, by_text("Raaju")).await?;
    let hit = response
        .hits
        .iter()
        .find(|h| h.record.as_ref().is_some_and(|r| r.id == w.ravi.id))
        .expect("Ravi (alias Raju) is found by 'Raaju'");
    let detail = &hit.reasons[0].detail;
    assert!(
        detail.contains("alias") && detail.contains("Raju") && detail.contains("Raaju"),
        "{detail}"
    );
    assert!(hit.score > 0.0 && hit.score <= 1.0);
    // Scores are ranked.
    let scores: Vec<f32> = response.hits.iter().map(|h| h.score).collect();
    assert!(scores.windows(2).all(|p| p[0] >= p[1]), "{scores:?}");
    // Unrelated names are not found.
    let response = search(o, by_text("Bhupendra Kisku")).await?;
    assert!(response.hits.is_empty(), "{:?}", names(&response));
    drop(w.district);
    Ok(())
}

#[tokio::test]
async fn near_misses_typos_word_final_variants_and_split_aliases_are_found() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let o = district.officer("JH-5002", Role::Officer).await?;
    let lalit = create(&o, person("Lalit Nath Choudhury", "Navin Choudhury")).await?;
    let mumtaz = create(&o, person("Mumtaz Paswan", "Abdul Paswan")).await?;
    let shyam = create(&o, person("Shyam Kumari Kisku", "Budhan Kisku")).await?;
    let rekha = create(&o, person("Rekha Lal Tirkey", "Etwa Tirkey")).await?;
    let ajit = create(&o, person("Ajit Mondal", "Tapan Mondal")).await?;
    let ravi = create(&o, person("Ravi Yadav", "Suresh Yadav")).await?;
    let mut raju = person("Raju Yadav", "Bhola Yadav");
    raju.aliases = vec!["Raju @ Pappu".into(), "Kalua urf Kallu".into()];
    let raju = create(&o, raju).await?;
    // The node split the aliases on entry.
    assert_eq!(raju.aliases, ["Raju", "Pappu", "Kalua", "Kallu"]);
    for (name, father) in [
        ("Lalit Kumar Singh", "Navin Singh"),
        ("Salim Ansari", "Abdul Ansari"),
        ("Shyam Sundar Hembrom", "Budhan Hembrom"),
        ("Rekha Devi", "Mohan Ram"),
        ("Ajay Mandal", "Tapan Mandal"),
        ("Raju Mahto", "Bhola Mahto"),
    ] {
        create(&o, person(name, father)).await?;
    }
    // Typos of every kind, including a swap of the first two letters, find the person
    // first, with the father's name or without.
    assert_first(&o, by_text("Lalit Nth Choudhury s/o Navin Khan"), &lalit).await;
    assert_first(&o, by_text("Mumtaz Pawsan s/o Abdul Verma"), &mumtaz).await;
    assert_first(&o, by_text("Shyam Kumai Kisku"), &shyam).await;
    assert_first(&o, by_text("eRkha Lal Tirkey"), &rekha).await;
    assert_first(&o, by_text("Aijt Mondal"), &ajit).await;
    assert_first(&o, by_text("Lalit Nath Cohudhury"), &lalit).await;
    // Word-final w/v and the other spellings of the issue.
    for text in ["Ravi Yadaw", "Rawi Yadav", "Ravi Yadab", "Ravi Jadav"] {
        assert_first(&o, by_text(text), &ravi).await;
    }
    // A near miss: one word of three matches nothing, and the reason names it.
    let response = search(&o, by_text("Shyam Zorawar Kisku")).await?;
    assert_eq!(
        ids(&response).first(),
        Some(&shyam.id),
        "{:?}",
        names(&response)
    );
    let detail = &response.hits[0].reasons[0].detail;
    assert!(detail.contains("'Zorawar' not matched"), "{detail}");
    // The split alias is searched as a name of its own, with the surname.
    assert_first(&o, by_text("Pappu Yadav"), &raju).await;
    assert_first(&o, by_text("Kallu Yadav"), &raju).await;
    drop(district);
    Ok(())
}

#[tokio::test]
async fn filters_identifiers_and_mo_text_narrow_the_results() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-5002", Role::Officer).await?;
    let mut wanted = person("Bablu Rajak", "Sohan Rajak");
    wanted.status = PersonStatus::Wanted as i32;
    wanted.gender = Gender::Male as i32;
    wanted.warnings = vec![Warning::Armed as i32, Warning::Violent as i32];
    wanted.birth_year = 1990;
    wanted.phones = vec!["+91 98765-43210".into()];
    wanted.vehicles = vec!["JH 10 AB 1234".into()];
    wanted.cases = vec![CaseRef {
        fir_number: "112/2025".into(),
        police_station: "Jharia".into(),
        year: 2025,
        ..Default::default()
    }];
    let wanted = create(&officer, wanted).await?;
    let mut arrested = person("Bablu Rajak", "Mohan Rajak");
    arrested.status = PersonStatus::Arrested as i32;
    arrested.gender = Gender::Male as i32;
    arrested.age_min = 40;
    arrested.age_max = 45;
    let arrested = create(&officer, arrested).await?;
    let mut woman = person("Babli Rajak", "Sohan Rajak");
    woman.gender = Gender::Female as i32;
    let woman = create(&officer, woman).await?;

    let with = |change: fn(&mut SearchRequest)| {
        let mut request = by_text("Bablu Rajak");
        change(&mut request);
        request
    };
    let found = |r: &SearchResponse| {
        let mut ids = ids(r);
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };

    let all = search(&officer, by_text("Bablu Rajak")).await?;
    assert!(all.hits.len() >= 2, "{:?}", names(&all));
    let r = search(
        &officer,
        with(|r| r.statuses = vec![PersonStatus::Wanted as i32]),
    )
    .await?;
    assert_eq!(found(&r), vec![wanted.id.clone()]);
    let r = search(&officer, with(|r| r.warnings = vec![Warning::Armed as i32])).await?;
    assert_eq!(found(&r), vec![wanted.id.clone()]);
    let r = search(&officer, with(|r| r.gender = Gender::Female as i32)).await?;
    assert_eq!(found(&r), vec![woman.id.clone()]);
    let r = search(&officer, with(|r| r.origins = vec![ASANSOL.into()])).await?;
    assert!(r.hits.is_empty());
    let r = search(&officer, with(|r| r.origins = vec![DHANBAD.into()])).await?;
    assert!(r.hits.len() >= 2);
    // Birth year: ±2 by default; the age range 40–45 (recorded this year) overlaps 1983.
    let r = search(&officer, with(|r| r.birth_year = 1992)).await?;
    assert_eq!(found(&r), vec![wanted.id.clone()]);
    let r = search(&officer, with(|r| r.birth_year = 1993)).await?;
    assert!(r.hits.is_empty(), "1993 is beyond ±2 of 1990");
    let r = search(
        &officer,
        with(|r| {
            r.birth_year = 1994;
            r.birth_year_tolerance = Some(4);
        }),
    )
    .await?;
    assert_eq!(found(&r), vec![wanted.id.clone()]);
    let born_1983 = setu_node::clock::current_year() - 43;
    let r = search(
        &officer,
        SearchRequest {
            text: "Bablu Rajak".into(),
            birth_year: born_1983,
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(found(&r), vec![arrested.id.clone()]);

    // Identifiers in any common form, alone.
    for phone in [
        "9876543210",
        "098765 43210",
        "+91-98765-43210",
        "0091 9876543210",
    ] {
        let r = search(
            &officer,
            SearchRequest {
                phone: phone.into(),
                ..Default::default()
            },
        )
        .await?;
        assert_eq!(found(&r), vec![wanted.id.clone()], "phone {phone}");
        assert_eq!(r.hits[0].reasons[0].field, "phones");
    }
    for vehicle in ["jh10ab1234", "JH-10-AB-1234", "jh 10 ab 1234"] {
        let r = search(
            &officer,
            SearchRequest {
                vehicle: vehicle.into(),
                ..Default::default()
            },
        )
        .await?;
        assert_eq!(found(&r), vec![wanted.id.clone()], "vehicle {vehicle}");
    }
    let fir = |number: &str, station: &str, year: u32| SearchRequest {
        fir_number: number.into(),
        police_station: station.into(),
        fir_year: year,
        ..Default::default()
    };
    let r = search(&officer, fir("112/2025", "Jharia PS", 0)).await?;
    assert_eq!(found(&r), vec![wanted.id.clone()]);
    let r = search(&officer, fir("112", "jharia", 2025)).await?;
    assert_eq!(found(&r), vec![wanted.id.clone()]);
    let r = search(&officer, fir("112", "Jharia", 0)).await?;
    assert_eq!(found(&r), vec![wanted.id.clone()]);
    let r = search(&officer, fir("112", "Jharia", 2024)).await?;
    assert!(r.hits.is_empty(), "another year's FIR 112");
    let r = search(&officer, fir("112/2025", "Katras", 0)).await?;
    assert!(r.hits.is_empty(), "another station's FIR 112");

    // MO text finds the notes and, through them, the linked people; the category filters.
    let atm = officer
        .mo()
        .create(CreateMoNoteRequest {
            note: Some(sample_note(
                MoCategory::AtmRobbery,
                "Gang cuts open ATM cash vans at night, firing in the air to scatter guards",
                &[wanted.id.clone(), arrested.id.clone()],
            )),
        })
        .await?
        .into_inner();
    let _chain = officer
        .mo()
        .create(CreateMoNoteRequest {
            note: Some(sample_note(
                MoCategory::ChainSnatching,
                "Two men on a motorcycle snatch chains near the bus stand",
                std::slice::from_ref(&woman.id),
            )),
        })
        .await?
        .into_inner();
    let r = search(
        &officer,
        SearchRequest {
            mo_text: "ATM cash van firing".into(),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(
        found(&r),
        sorted(vec![wanted.id.clone(), arrested.id.clone()])
    );
    assert_eq!(r.mo_notes.len(), 1);
    assert_eq!(r.mo_notes[0].note.as_ref().map(|n| &n.id), Some(&atm.id));
    assert!(
        r.mo_notes[0].matched.iter().any(|m| m.contains("summary")),
        "{:?}",
        r.mo_notes[0].matched
    );
    assert!(r.hits[0].reasons.iter().any(|x| x.field == "mo_note"));
    let r = search(
        &officer,
        SearchRequest {
            mo_categories: vec![MoCategory::ChainSnatching as i32],
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(found(&r), vec![woman.id.clone()]);
    let r = search(
        &officer,
        with(|r| r.mo_categories = vec![MoCategory::AtmRobbery as i32]),
    )
    .await?;
    assert_eq!(
        found(&r),
        sorted(vec![wanted.id.clone(), arrested.id.clone()])
    );

    // Paging: one hit per page, each page different, then no token.
    let mut request = by_text("Bablu Rajak");
    request.page_size = 1;
    let first = search(&officer, request.clone()).await?;
    assert_eq!(first.hits.len(), 1);
    assert!(!first.next_page_token.is_empty());
    request.page_token = first.next_page_token.clone();
    let second = search(&officer, request).await?;
    assert_eq!(second.hits.len(), 1);
    assert_ne!(ids(&first), ids(&second));
    assert_eq!(first.total, second.total);
    Ok(())
}

#[tokio::test]
async fn malformed_queries_are_refused_with_the_field_named() -> anyhow::Result<()> {
    let district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-5003", Role::Officer).await?;
    let cases: Vec<(SearchRequest, &str)> = vec![
        (SearchRequest::default(), "text"),
        (by_text("   "), "text"),
        (
            by_text(&"क".repeat(10_000)),
            "text: has 10000 characters; the limit is 200",
        ),
        (by_text("!!! ???"), "text"),
        (
            SearchRequest {
                text: "Raju".into(),
                statuses: vec![42],
                ..Default::default()
            },
            "statuses[0]: 42 is not a known status",
        ),
        (
            SearchRequest {
                text: "Raju".into(),
                gender: 9,
                ..Default::default()
            },
            "gender",
        ),
        (
            SearchRequest {
                text: "Raju".into(),
                birth_year: 1990,
                birth_year_tolerance: Some(50),
                ..Default::default()
            },
            "birth_year_tolerance: 50 years is above the limit of 20",
        ),
        (
            SearchRequest {
                text: "Raju".into(),
                birth_year: 1800,
                ..Default::default()
            },
            "birth_year",
        ),
        (
            SearchRequest {
                text: "Raju".into(),
                origins: vec!["Not A District!".into()],
                ..Default::default()
            },
            "origins[0]",
        ),
        (
            SearchRequest {
                phone: "98-76".into(),
                ..Default::default()
            },
            "phone",
        ),
        (
            SearchRequest {
                vehicle: "JH#10".into(),
                ..Default::default()
            },
            "vehicle",
        ),
        (
            SearchRequest {
                fir_number: "112/2025".into(),
                ..Default::default()
            },
            "police_station",
        ),
        (
            SearchRequest {
                text: "Raju".into(),
                page_size: 1000,
                ..Default::default()
            },
            "page_size: 1000 is above the limit of 100",
        ),
        (
            SearchRequest {
                text: "Raju".into(),
                page_token: "not-a-token".into(),
                ..Default::default()
            },
            "page_token",
        ),
        (
            SearchRequest {
                mo_text: "a".repeat(5000),
                ..Default::default()
            },
            "mo_text",
        ),
    ];
    for (request, expected) in cases {
        let shown = format!("{:.80}", format!("{request:?}"));
        let status = officer
            .search()
            .search(request)
            .await
            .expect_err("a malformed query is refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{shown}: {status:?}");
        assert!(
            status.message().starts_with(expected),
            "{shown}: '{}' should start with '{expected}'",
            status.message()
        );
    }
    Ok(())
}

/// Searches on `officer`'s node until `accept` likes the response.
async fn wait_for_search(
    officer: &Officer,
    request: SearchRequest,
    what: &str,
    accept: impl Fn(&SearchResponse) -> bool,
) -> anyhow::Result<SearchResponse> {
    let (accept, request) = (&accept, &request);
    wait_for(SYNC_TIMEOUT, what, || async move {
        match officer.search().search(request.clone()).await {
            Ok(r) if accept(r.get_ref()) => Ok(r.into_inner()),
            Ok(r) => Err(format!("not yet: {:?}", names(r.get_ref()))),
            Err(status) => Err(format!("{:?}: {}", status.code(), status.message())),
        }
    })
    .await
}

#[tokio::test]
async fn replicated_records_are_findable_and_removed_ones_vanish() -> anyhow::Result<()> {
    let mut plan = Mesh::plan()?;
    plan.ca("jh", "Test Jharkhand CA")?;
    plan.ca("wb", "Test West Bengal CA")?;
    plan.node(DHANBAD, "jh")?;
    plan.node(ASANSOL, "wb")?;
    plan.peers(DHANBAD, ASANSOL);
    let mesh = plan.start().await?;
    let a = mesh.officer(DHANBAD, "JH-5004", Role::Admin).await?;
    let b = mesh.officer(ASANSOL, "WB-5104", Role::Officer).await?;

    // Created in Dhanbad, found in Asansol by a Devanagari query, with its origin.
    let mut record = person("Tinku Bhuiyan", "Hiralal Bhuiyan");
    record.handling = Handling::Peers as i32;
    let record = create(&a, record).await?;
    let query = by_text("टिंकू भुइयां");
    let found = wait_for_search(&b, query.clone(), "the replicated record is found", |r| {
        ids(r).contains(&record.id)
    })
    .await?;
    assert_eq!(
        found.hits[0].record.as_ref().map(|r| r.origin.as_str()),
        Some(DHANBAD)
    );
    // Filtering by origin from the other side.
    let r = search(
        &b,
        SearchRequest {
            text: "Tinku Bhuiyan".into(),
            origins: vec![DHANBAD.into()],
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(ids(&r), vec![record.id.clone()]);

    // Narrowed to LOCAL_ONLY: Asansol's copy is retracted and leaves its results.
    let mut narrowed = record.clone();
    narrowed.handling = Handling::LocalOnly as i32;
    let narrowed = a
        .records()
        .update(UpdateRecordRequest {
            record: Some(narrowed),
            expected_version: record.version,
        })
        .await?
        .into_inner();
    wait_for_search(
        &b,
        query.clone(),
        "the retracted record leaves B's results",
        |r| !ids(r).contains(&record.id),
    )
    .await?;
    // Dhanbad still finds its own record.
    assert_eq!(
        ids(&search(&a, query.clone()).await?),
        vec![record.id.clone()]
    );

    // Expunged at the origin: gone from the origin's results at once, and from the peer's.
    let mut second = person("Guddu Bhuiyan", "Hiralal Bhuiyan");
    second.handling = Handling::Federation as i32;
    let second = create(&a, second).await?;
    let second_query = by_text("Guddu Bhuiyan");
    wait_for_search(
        &b,
        second_query.clone(),
        "the second record reaches B",
        |r| ids(r).contains(&second.id),
    )
    .await?;
    for (id, version) in [
        (&narrowed.id, narrowed.version),
        (&second.id, second.version),
    ] {
        a.records()
            .delete(DeleteRecordRequest {
                id: id.clone(),
                reason: "test: duplicate dossier".into(),
                expected_version: version,
            })
            .await?;
    }
    assert!(search(&a, query).await?.hits.is_empty());
    assert!(search(&a, second_query.clone()).await?.hits.is_empty());
    wait_for_search(
        &b,
        second_query,
        "the expunge removes it from B's results",
        |r| r.hits.is_empty(),
    )
    .await?;
    Ok(())
}

#[tokio::test]
async fn the_index_is_rebuilt_after_a_restart_and_searches_are_audited() -> anyhow::Result<()> {
    let mut district = District::start(DHANBAD).await?;
    let officer = district.officer("JH-5005", Role::Officer).await?;
    let record = create(&officer, person("Chhotu Karmali", "Budhan Karmali")).await?;
    let mut updated = record.clone();
    updated.name = "Chhotu Karmakar".into();
    let updated = officer
        .records()
        .update(UpdateRecordRequest {
            record: Some(updated),
            expected_version: record.version,
        })
        .await?
        .into_inner();
    // The old name no longer finds it (exactly), the new one does.
    let r = search(&officer, by_text("Chhotu Karmakar")).await?;
    assert_eq!(ids(&r), vec![updated.id.clone()]);

    district.node.restart().await?;
    let officer = district.officer("JH-5005", Role::Officer).await?;
    let r = search(&officer, by_text("Chhotu Karmakar")).await?;
    assert_eq!(ids(&r), vec![updated.id.clone()], "found after the restart");
    assert!(r.hits[0].reasons[0].detail.contains("Karmakar"));

    // Every search is in the audit trail with its query and how many it returned.
    let admin = district.officer("JH-5999", Role::Admin).await?;
    let entries = admin
        .audit()
        .list(ListAuditRequest {
            officer: "JH-5005".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .entries;
    let searches: Vec<_> = entries
        .iter()
        .filter(|e| e.method == "SearchService/Search")
        .collect();
    assert_eq!(searches.len(), 2, "{entries:#?}");
    let last = searches[1];
    assert!(
        last.query.contains("text=Chhotu Karmakar"),
        "{}",
        last.query
    );
    assert_eq!(last.results, 1);
    assert_eq!(last.ids, vec![updated.id.clone()]);
    assert_eq!(last.outcome, "OK");
    assert_eq!(last.district, DHANBAD);
    // A refused search is recorded too.
    let _ = officer.search().search(SearchRequest::default()).await;
    let entries = admin
        .audit()
        .list(ListAuditRequest {
            officer: "JH-5005".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .entries;
    assert_eq!(
        entries
            .last()
            .map(|e| (e.method.as_str(), e.outcome.as_str())),
        Some(("SearchService/Search", "INVALID_ARGUMENT"))
    );
    Ok(())
}
