//! A simulated national mesh: N fictional districts placed on a generated map, grouped
//! into states that each have their own CA, each district peering with its 3–6 nearest
//! neighbours (a partial mesh, never all-to-all, always connected). The mesh test
//! (`tests/mesh.rs`) and the mesh benchmark (`benches/mesh.rs`) share it, so that what the
//! test proves about relaying holds for the topology the benchmark measures.
//!
//! The map is a pure function of its seed: the same (size, states, seed) always gives the
//! same districts, links and edge node, so a failure can be replayed.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use setu_tests::national::NationalMap;
//! let map = NationalMap::generate(10, 5, 7);
//! let mesh = map.start().await?;
//! let origin = map.district(map.edge());
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use anyhow::Context;
use setu_node::storage::Storage;

use crate::mesh::{Mesh, MeshPlan};
use crate::node::TestNode;
use crate::scrape::{http_get, parse};

/// The fewest and most peers a district picks on its own (links needed to keep the mesh
/// connected may add one more to a district).
pub const MIN_PEERS: usize = 3;
/// See [`MIN_PEERS`].
pub const MAX_PEERS: usize = 6;

/// The side of the square map, in arbitrary units.
const MAP_SIDE: f64 = 1000.0;

/// One district on the map.
#[derive(Debug, Clone)]
pub struct MapDistrict {
    /// Its id, e.g. `sc-017` (state prefix, a dash, a number).
    pub id: String,
    /// The index of its state in [`NationalMap::states`].
    pub state: usize,
    /// Its position on the map.
    pub x: f64,
    /// See `x`.
    pub y: f64,
}

/// A generated map of districts and the peer links between them.
#[derive(Debug, Clone)]
pub struct NationalMap {
    /// The state prefixes (`sa`, `sb`, ...); each state has its own CA of that name.
    pub states: Vec<String>,
    /// The districts, by index.
    pub districts: Vec<MapDistrict>,
    /// The peer links, as index pairs (smaller index first); each is peered both ways.
    pub links: BTreeSet<(usize, usize)>,
}

/// A small deterministic generator (SplitMix64): the map needs reproducible numbers, not
/// good randomness, and this keeps the helpers free of another dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl NationalMap {
    /// Places `size` districts of `states` states (at most 26) at seeded random points and
    /// links each to its nearest neighbours: every district wants between 3 and 6 peers
    /// (its own seeded number) and takes the nearest districts that still have room, then
    /// components are joined by their shortest possible link until the mesh is connected.
    /// States are vertical bands of the map, so neighbours across a band are neighbours
    /// across a state line.
    pub fn generate(size: usize, states: usize, seed: u64) -> NationalMap {
        assert!(
            size > MAX_PEERS,
            "a mesh of {size} districts would be all-to-all"
        );
        assert!((1..=26).contains(&states), "1 to 26 states");
        let mut rng = SplitMix(seed);
        let states: Vec<String> = (0..states)
            .map(|i| format!("s{}", char::from(b'a' + i as u8)))
            .collect();
        let points: Vec<(f64, f64)> = (0..size)
            .map(|_| (rng.unit() * MAP_SIDE, rng.unit() * MAP_SIDE))
            .collect();
        // Number the districts from west to east, so that a state's districts are one run.
        let mut order: Vec<usize> = (0..size).collect();
        order.sort_by(|&a, &b| points[a].0.total_cmp(&points[b].0));
        let districts: Vec<MapDistrict> = order
            .iter()
            .enumerate()
            .map(|(rank, &p)| {
                let state = rank * states.len() / size;
                MapDistrict {
                    id: format!("{}-{:03}", states[state], rank + 1),
                    state,
                    x: points[p].0,
                    y: points[p].1,
                }
            })
            .collect();
        let wanted: Vec<usize> = (0..size)
            .map(|_| MIN_PEERS + (rng.next() % (MAX_PEERS - MIN_PEERS + 1) as u64) as usize)
            .collect();
        let mut map = NationalMap {
            states,
            districts,
            links: BTreeSet::new(),
        };
        let mut degree = vec![0usize; size];
        for i in 0..size {
            for j in map.by_distance(i) {
                if degree[i] >= wanted[i] {
                    break;
                }
                if degree[j] < MAX_PEERS && map.links.insert(Self::pair(i, j)) {
                    degree[i] += 1;
                    degree[j] += 1;
                }
            }
        }
        map.connect();
        map
    }

    fn pair(a: usize, b: usize) -> (usize, usize) {
        (a.min(b), a.max(b))
    }

    fn distance(&self, a: usize, b: usize) -> f64 {
        let (p, q) = (&self.districts[a], &self.districts[b]);
        (p.x - q.x).hypot(p.y - q.y)
    }

    /// The other districts, nearest first.
    fn by_distance(&self, i: usize) -> Vec<usize> {
        let mut others: Vec<usize> = (0..self.districts.len()).filter(|&j| j != i).collect();
        others.sort_by(|&a, &b| self.distance(i, a).total_cmp(&self.distance(i, b)));
        others
    }

    /// Joins the component of district 0 to the rest by the shortest link between them
    /// (preferring districts that still have room for a peer) until everything is one
    /// component.
    fn connect(&mut self) {
        loop {
            let hops = self.hops_from(0);
            let (reached, apart): (Vec<usize>, Vec<usize>) =
                (0..self.districts.len()).partition(|&i| hops[i].is_some());
            if apart.is_empty() {
                return;
            }
            let degrees: Vec<usize> = (0..self.districts.len())
                .map(|i| self.neighbours(i).len())
                .collect();
            let best = reached
                .iter()
                .flat_map(|&a| apart.iter().map(move |&b| (a, b)))
                .min_by(|&(a, b), &(c, d)| {
                    let full =
                        |x: usize, y: usize| degrees[x] >= MAX_PEERS || degrees[y] >= MAX_PEERS;
                    full(a, b)
                        .cmp(&full(c, d))
                        .then(self.distance(a, b).total_cmp(&self.distance(c, d)))
                })
                .expect("both sides are non-empty");
            self.links.insert(Self::pair(best.0, best.1));
        }
    }

    /// The number of districts.
    pub fn len(&self) -> usize {
        self.districts.len()
    }

    /// Whether the map has no districts (never, for a generated one).
    pub fn is_empty(&self) -> bool {
        self.districts.is_empty()
    }

    /// The id of district `i`.
    pub fn district(&self, i: usize) -> &str {
        &self.districts[i].id
    }

    /// The index of the district with this id.
    pub fn index(&self, id: &str) -> usize {
        self.districts
            .iter()
            .position(|d| d.id == id)
            .unwrap_or_else(|| panic!("no district {id} on the map"))
    }

    /// The peers of district `i`, by index.
    pub fn neighbours(&self, i: usize) -> Vec<usize> {
        self.links
            .iter()
            .filter_map(|&(a, b)| match (a == i, b == i) {
                (true, _) => Some(b),
                (_, true) => Some(a),
                _ => None,
            })
            .collect()
    }

    /// The number of links on the shortest path from district `start` to each district
    /// (`None`: unreachable), by index.
    pub fn hops_from(&self, start: usize) -> Vec<Option<usize>> {
        let mut hops = vec![None; self.districts.len()];
        hops[start] = Some(0);
        let mut queue = VecDeque::from([start]);
        while let Some(i) = queue.pop_front() {
            for j in self.neighbours(i) {
                if hops[j].is_none() {
                    hops[j] = hops[i].map(|h| h + 1);
                    queue.push_back(j);
                }
            }
        }
        hops
    }

    /// Whether every district can reach every other through the links.
    pub fn is_connected(&self) -> bool {
        self.hops_from(0).iter().all(Option::is_some)
    }

    /// The district farthest from the centre of the map: the mesh's edge.
    pub fn edge(&self) -> usize {
        let centre = MAP_SIDE / 2.0;
        let off = |d: &MapDistrict| (d.x - centre).hypot(d.y - centre);
        (0..self.districts.len())
            .max_by(|&a, &b| off(&self.districts[a]).total_cmp(&off(&self.districts[b])))
            .expect("a map has districts")
    }

    /// The largest number of hops from district `i` to any other (its eccentricity).
    pub fn farthest_hops(&self, i: usize) -> usize {
        self.hops_from(i).into_iter().flatten().max().unwrap_or(0)
    }

    /// The fewest and most peers any district has.
    pub fn degree_range(&self) -> (usize, usize) {
        let degrees: Vec<usize> = (0..self.len()).map(|i| self.neighbours(i).len()).collect();
        (
            degrees.iter().copied().min().unwrap_or(0),
            degrees.iter().copied().max().unwrap_or(0),
        )
    }

    /// A one-line description: districts, states, links, degrees, the edge and its reach.
    pub fn summary(&self) -> String {
        let (low, high) = self.degree_range();
        let edge = self.edge();
        format!(
            "{} districts in {} states, {} links (peers per district {low}–{high}), edge {} at most {} hops from any district",
            self.len(),
            self.states.len(),
            self.links.len(),
            self.district(edge),
            self.farthest_hops(edge)
        )
    }

    /// The mesh as a plan: one CA per state, one node per district with a certificate
    /// from its state's CA, every link peered both ways, a small cache (8 MiB), and every
    /// node trusting every other state's CA for that state's nodes, so that relayed key
    /// statements of distant origins verify. Tune nodes further before starting it.
    pub fn plan(&self) -> anyhow::Result<MeshPlan> {
        let mut plan = Mesh::plan()?;
        for state in &self.states {
            plan.ca(state, &format!("Test State CA {}", state.to_uppercase()))?;
        }
        for d in &self.districts {
            plan.node(&d.id, &self.states[d.state])?;
            plan.tune(&d.id, |c| c.cache_mib = 8);
        }
        for d in &self.districts {
            for (s, state) in self.states.iter().enumerate() {
                if s != d.state {
                    plan.trust(&d.id, state);
                }
            }
        }
        for &(a, b) in &self.links {
            plan.peers(self.district(a), self.district(b));
        }
        Ok(plan)
    }

    /// Plans the mesh ([`NationalMap::plan`]) and starts every node.
    pub async fn start(&self) -> anyhow::Result<Mesh> {
        self.plan()?.start().await
    }
}

/// Whether `storage` holds record `id` (readable, not expunged or retracted).
pub fn holds_record(storage: &Storage, id: &str) -> bool {
    storage.record(id).is_ok()
}

/// A node's `setu_sync_envelopes_total` counters, keyed by (peer, origin, outcome).
pub async fn envelope_counts(
    node: &TestNode,
) -> anyhow::Result<BTreeMap<(String, String, String), u64>> {
    let response = http_get(node.admin_addr(), "/metrics").await?;
    anyhow::ensure!(response.status == 200, "/metrics said {}", response.status);
    let exposition = parse(&response.body)?;
    let mut counts = BTreeMap::new();
    for sample in exposition.find("setu_sync_envelopes_total", &[]) {
        let label = |name: &str| -> anyhow::Result<String> {
            sample
                .labels
                .get(name)
                .cloned()
                .with_context(|| format!("a sync envelope sample without {name}"))
        };
        counts.insert(
            (label("peer")?, label("origin")?, label("outcome")?),
            sample.value as u64,
        );
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_are_connected_partial_meshes_with_state_prefixed_ids() {
        for (size, seed) in [(10, 7), (25, 1), (50, 2), (100, 3)] {
            let map = NationalMap::generate(size, 5, seed);
            assert!(map.is_connected(), "{}", map.summary());
            let (low, high) = map.degree_range();
            assert!(
                low >= MIN_PEERS && high <= MAX_PEERS + 1,
                "{}",
                map.summary()
            );
            assert!(map.links.len() < size * (size - 1) / 2);
            for d in &map.districts {
                assert_eq!(
                    setu_node::config::state_pattern(&d.id),
                    format!("{}-*", map.states[d.state])
                );
            }
        }
        let (a, b) = (
            NationalMap::generate(25, 5, 9),
            NationalMap::generate(25, 5, 9),
        );
        assert_eq!(a.links, b.links, "the same seed gives the same map");
    }
}
