//! The big encoding's order-statistic tree: a B+tree over `(score, id)`
//! pairs, ordered by score and then by the bytes of the member the id
//! names, whose inner nodes keep the element count of every child.
//!
//! Why a B-tree and not Redis's skiplist: a skiplist node costs a score, a
//! member pointer, a backward pointer and on average 1.33 levels of
//! (forward pointer, span), about 50 bytes a member; a leaf of this tree
//! holds a score and a 4-byte id per member (12 bytes, leaves kept full on
//! appends), with rank, select and insert all O(log n) through the counts.
//!
//! The tree does not hold member bytes: ids index the [`Slab`], which the
//! caller passes in whenever a comparison may need them (equal scores).
//! Every inner node keeps, for each child, the child's first element
//! (exact: it is refreshed after each change below it), so that a search
//! picks the child with one comparison per separator.

use std::cmp::Ordering;

use crate::thin::ThinParts;

/// Most elements in a leaf.
const LEAF_MAX: usize = 64;
/// Most children of an inner node.
const INNER_MAX: usize = 32;

/// Member blocks by id: each is a [`ThinParts`] holding the member's bytes
/// and its score (8 little-endian bytes). Freed ids are reused.
#[derive(Clone, Default, Debug)]
pub struct Slab {
    blocks: Vec<Option<ThinParts>>,
    free: Vec<u32>,
}

impl Slab {
    /// Stores a member with its score; returns its id.
    pub fn alloc(&mut self, member: &[u8], score: f64) -> u32 {
        let block = ThinParts::new(&[member, &score.to_le_bytes()]);
        if let Some(id) = self.free.pop() {
            self.blocks[id as usize] = Some(block);
            id
        } else {
            self.blocks.push(Some(block));
            (self.blocks.len() - 1) as u32
        }
    }

    /// Frees an id.
    pub fn release(&mut self, id: u32) {
        if let Some(slot) = self.blocks.get_mut(id as usize) {
            *slot = None;
            self.free.push(id);
        }
    }

    /// The member bytes of `id` (empty for a freed id).
    #[inline]
    pub fn member(&self, id: u32) -> &[u8] {
        match self.blocks.get(id as usize) {
            Some(Some(b)) => b.part(0),
            _ => b"",
        }
    }

    /// The score of `id` (0 for a freed id).
    #[inline]
    pub fn score(&self, id: u32) -> f64 {
        match self.blocks.get(id as usize) {
            Some(Some(b)) => {
                let mut a = [0u8; 8];
                a.copy_from_slice(b.part(1));
                f64::from_le_bytes(a)
            }
            _ => 0.0,
        }
    }

    /// Changes the score of `id` in place.
    pub fn set_score(&mut self, id: u32, score: f64) {
        if let Some(Some(b)) = self.blocks.get_mut(id as usize) {
            b.part_mut(1).copy_from_slice(&score.to_le_bytes());
        }
    }

    /// Bytes used by the blocks and the id vectors.
    pub fn memory(&self) -> usize {
        self.blocks.capacity() * 8
            + self.free.capacity() * 4
            + self
                .blocks
                .iter()
                .flatten()
                .map(|b| b.block_size())
                .sum::<usize>()
    }
}

/// Compares element `(s, id)` with the key `(score, member)`.
#[inline]
fn cmp_key(slab: &Slab, s: f64, id: u32, score: f64, member: &[u8]) -> Ordering {
    if s < score {
        Ordering::Less
    } else if s > score {
        Ordering::Greater
    } else {
        slab.member(id).cmp(member)
    }
}

#[derive(Clone, Debug, Default)]
struct Leaf {
    scores: Vec<f64>,
    ids: Vec<u32>,
}

#[derive(Clone, Debug)]
struct Inner {
    children: Vec<Node>,
    counts: Vec<usize>,
    first_scores: Vec<f64>,
    first_ids: Vec<u32>,
}

#[derive(Clone, Debug)]
enum Node {
    Leaf(Leaf),
    Inner(Inner),
}

impl Node {
    fn first(&self) -> (f64, u32) {
        match self {
            Node::Leaf(l) => (l.scores[0], l.ids[0]),
            Node::Inner(n) => (n.first_scores[0], n.first_ids[0]),
        }
    }

    /// Entries of this node (elements of a leaf, children of an inner).
    fn width(&self) -> usize {
        match self {
            Node::Leaf(l) => l.ids.len(),
            Node::Inner(n) => n.children.len(),
        }
    }

    fn max_width(&self) -> usize {
        match self {
            Node::Leaf(_) => LEAF_MAX,
            Node::Inner(_) => INNER_MAX,
        }
    }

    fn count(&self) -> usize {
        match self {
            Node::Leaf(l) => l.ids.len(),
            Node::Inner(n) => n.counts.iter().sum(),
        }
    }

    /// Appends `other`'s entries (same kind of node) to this one.
    fn absorb(&mut self, other: Node) {
        match (self, other) {
            (Node::Leaf(a), Node::Leaf(b)) => {
                a.scores.extend(b.scores);
                a.ids.extend(b.ids);
            }
            (Node::Inner(a), Node::Inner(b)) => {
                a.children.extend(b.children);
                a.counts.extend(b.counts);
                a.first_scores.extend(b.first_scores);
                a.first_ids.extend(b.first_ids);
            }
            _ => debug_assert!(false, "merging nodes of different kinds"),
        }
    }

    /// Splits off entries `at..` into a new node.
    fn split_off(&mut self, at: usize) -> Node {
        match self {
            Node::Leaf(l) => {
                let mut scores = Vec::with_capacity(LEAF_MAX);
                let mut ids = Vec::with_capacity(LEAF_MAX);
                scores.extend(l.scores.drain(at..));
                ids.extend(l.ids.drain(at..));
                Node::Leaf(Leaf { scores, ids })
            }
            Node::Inner(n) => Node::Inner(Inner {
                children: n.children.split_off(at),
                counts: n.counts.split_off(at),
                first_scores: n.first_scores.split_off(at),
                first_ids: n.first_ids.split_off(at),
            }),
        }
    }

    /// Inserts the element; returns a new right sibling if this node split.
    fn insert(&mut self, slab: &Slab, score: f64, id: u32) -> Option<Node> {
        let member = slab.member(id);
        let (pos, at_end) = match self {
            Node::Leaf(l) => {
                let pos = partition(l.ids.len(), |i| {
                    cmp_key(slab, l.scores[i], l.ids[i], score, member) == Ordering::Less
                });
                l.scores.insert(pos, score);
                l.ids.insert(pos, id);
                (pos, pos + 1 == l.ids.len())
            }
            Node::Inner(n) => {
                let i = child_for(n, slab, score, member);
                let split = n.children[i].insert(slab, score, id);
                n.counts[i] += 1;
                let (fs, fi) = n.children[i].first();
                n.first_scores[i] = fs;
                n.first_ids[i] = fi;
                if let Some(right) = split {
                    let c = right.count();
                    n.counts[i] -= c;
                    let (fs, fi) = right.first();
                    n.children.insert(i + 1, right);
                    n.counts.insert(i + 1, c);
                    n.first_scores.insert(i + 1, fs);
                    n.first_ids.insert(i + 1, fi);
                }
                (i, i + 2 >= n.children.len())
            }
        };
        let _ = pos;
        if self.width() <= self.max_width() {
            return None;
        }
        // Appends (ever-growing scores, the common case) leave the left
        // node full: split off only the last entry.
        let at = if at_end {
            self.width() - 1
        } else {
            self.width() / 2
        };
        Some(self.split_off(at))
    }

    /// Removes the element; returns whether it was found.
    fn remove(&mut self, slab: &Slab, score: f64, member: &[u8]) -> bool {
        match self {
            Node::Leaf(l) => {
                let pos = partition(l.ids.len(), |i| {
                    cmp_key(slab, l.scores[i], l.ids[i], score, member) == Ordering::Less
                });
                if pos < l.ids.len()
                    && cmp_key(slab, l.scores[pos], l.ids[pos], score, member) == Ordering::Equal
                {
                    l.scores.remove(pos);
                    l.ids.remove(pos);
                    true
                } else {
                    false
                }
            }
            Node::Inner(n) => {
                let i = child_for(n, slab, score, member);
                if !n.children[i].remove(slab, score, member) {
                    return false;
                }
                n.counts[i] -= 1;
                if n.counts[i] == 0 {
                    n.children.remove(i);
                    n.counts.remove(i);
                    n.first_scores.remove(i);
                    n.first_ids.remove(i);
                    return true;
                }
                let (fs, fi) = n.children[i].first();
                n.first_scores[i] = fs;
                n.first_ids[i] = fi;
                rebalance(n, i);
                true
            }
        }
    }

    /// Rank of the element among this subtree's, if present.
    fn rank(&self, slab: &Slab, score: f64, member: &[u8]) -> Option<usize> {
        match self {
            Node::Leaf(l) => {
                let pos = partition(l.ids.len(), |i| {
                    cmp_key(slab, l.scores[i], l.ids[i], score, member) == Ordering::Less
                });
                (pos < l.ids.len()
                    && cmp_key(slab, l.scores[pos], l.ids[pos], score, member) == Ordering::Equal)
                    .then_some(pos)
            }
            Node::Inner(n) => {
                let i = child_for(n, slab, score, member);
                let before: usize = n.counts[..i].iter().sum();
                n.children[i].rank(slab, score, member).map(|r| before + r)
            }
        }
    }

    fn select(&self, mut rank: usize) -> Option<(f64, u32)> {
        match self {
            Node::Leaf(l) => Some((*l.scores.get(rank)?, l.ids[rank])),
            Node::Inner(n) => {
                for (c, &k) in n.children.iter().zip(&n.counts) {
                    if rank < k {
                        return c.select(rank);
                    }
                    rank -= k;
                }
                None
            }
        }
    }

    fn partition_point(&self, pred: &mut dyn FnMut(f64, u32) -> bool) -> usize {
        match self {
            Node::Leaf(l) => partition(l.ids.len(), |i| pred(l.scores[i], l.ids[i])),
            Node::Inner(n) => {
                let k = partition(n.children.len(), |i| {
                    pred(n.first_scores[i], n.first_ids[i])
                });
                if k == 0 {
                    return 0;
                }
                let i = k - 1;
                let before: usize = n.counts[..i].iter().sum();
                before + n.children[i].partition_point(pred)
            }
        }
    }

    /// Calls `f` with the elements from rank `from` on while it returns
    /// true; returns false once `f` did.
    fn walk(&self, mut from: usize, f: &mut dyn FnMut(f64, u32) -> bool) -> bool {
        match self {
            Node::Leaf(l) => {
                for i in from..l.ids.len() {
                    if !f(l.scores[i], l.ids[i]) {
                        return false;
                    }
                }
                true
            }
            Node::Inner(n) => {
                for (c, &k) in n.children.iter().zip(&n.counts) {
                    if from >= k {
                        from -= k;
                        continue;
                    }
                    if !c.walk(from, f) {
                        return false;
                    }
                    from = 0;
                }
                true
            }
        }
    }

    /// As `walk`, backwards from rank `from` (inclusive) down to rank 0.
    fn walk_rev(&self, from: usize, f: &mut dyn FnMut(f64, u32) -> bool) -> bool {
        match self {
            Node::Leaf(l) => {
                let top = from.min(l.ids.len().saturating_sub(1));
                if l.ids.is_empty() {
                    return true;
                }
                for i in (0..=top).rev() {
                    if !f(l.scores[i], l.ids[i]) {
                        return false;
                    }
                }
                true
            }
            Node::Inner(n) => {
                let mut start: usize = n.counts.iter().sum();
                for i in (0..n.children.len()).rev() {
                    start -= n.counts[i];
                    if start > from {
                        continue;
                    }
                    if !n.children[i].walk_rev(from - start, f) {
                        return false;
                    }
                }
                true
            }
        }
    }

    fn memory(&self) -> usize {
        match self {
            Node::Leaf(l) => l.scores.capacity() * 8 + l.ids.capacity() * 4,
            Node::Inner(n) => {
                n.children.iter().map(Node::memory).sum::<usize>()
                    + n.children.capacity() * std::mem::size_of::<Node>()
                    + n.counts.capacity() * 8
                    + n.first_scores.capacity() * 8
                    + n.first_ids.capacity() * 4
            }
        }
    }

    #[cfg(test)]
    fn check(&self, slab: &Slab, root: bool) -> usize {
        match self {
            Node::Leaf(l) => {
                assert!(root || !l.ids.is_empty());
                for w in 0..l.ids.len().saturating_sub(1) {
                    let (s, m) = (l.scores[w + 1], slab.member(l.ids[w + 1]));
                    assert_eq!(cmp_key(slab, l.scores[w], l.ids[w], s, m), Ordering::Less);
                }
                l.ids.len()
            }
            Node::Inner(n) => {
                let mut total = 0;
                for (i, c) in n.children.iter().enumerate() {
                    let k = c.check(slab, false);
                    assert_eq!(k, n.counts[i]);
                    assert_eq!(c.first(), (n.first_scores[i], n.first_ids[i]));
                    total += k;
                }
                total
            }
        }
    }
}

/// First index in `0..n` for which `before` is false (`before` must be
/// true for a prefix).
#[inline]
fn partition(n: usize, mut before: impl FnMut(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The child whose range holds the key: the last one whose first element
/// is not above it (the first child when every one is).
fn child_for(n: &Inner, slab: &Slab, score: f64, member: &[u8]) -> usize {
    partition(n.children.len(), |i| {
        cmp_key(slab, n.first_scores[i], n.first_ids[i], score, member) != Ordering::Greater
    })
    .saturating_sub(1)
}

/// Merges child `i` with a neighbour when it has become small enough to
/// share a node, so that deletions never leave a trail of tiny nodes.
fn rebalance(n: &mut Inner, i: usize) {
    let small = n.children[i].width() < n.children[i].max_width() / 4;
    if !small {
        return;
    }
    let max = n.children[i].max_width();
    let pair =
        if i + 1 < n.children.len() && n.children[i].width() + n.children[i + 1].width() <= max {
            Some(i)
        } else if i > 0 && n.children[i - 1].width() + n.children[i].width() <= max {
            Some(i - 1)
        } else {
            None
        };
    if let Some(l) = pair {
        let right = n.children.remove(l + 1);
        let c = n.counts.remove(l + 1);
        n.first_scores.remove(l + 1);
        n.first_ids.remove(l + 1);
        n.children[l].absorb(right);
        n.counts[l] += c;
    }
}

/// The order-statistic tree. See the module docs.
#[derive(Clone, Debug)]
pub struct Tree {
    root: Node,
    len: usize,
}

impl Default for Tree {
    fn default() -> Tree {
        Tree {
            root: Node::Leaf(Leaf::default()),
            len: 0,
        }
    }
}

impl Tree {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Inserts `(score, id)`; the element must not be present.
    pub fn insert(&mut self, slab: &Slab, score: f64, id: u32) {
        if let Some(right) = self.root.insert(slab, score, id) {
            let left = std::mem::replace(&mut self.root, Node::Leaf(Leaf::default()));
            let (ls, li) = left.first();
            let (rs, ri) = right.first();
            let (lc, rc) = (left.count(), right.count());
            self.root = Node::Inner(Inner {
                children: vec![left, right],
                counts: vec![lc, rc],
                first_scores: vec![ls, rs],
                first_ids: vec![li, ri],
            });
        }
        self.len += 1;
    }

    /// Removes the element `(score, member)`; returns whether it was there.
    pub fn remove(&mut self, slab: &Slab, score: f64, member: &[u8]) -> bool {
        if !self.root.remove(slab, score, member) {
            return false;
        }
        self.len -= 1;
        // Shrink the root while it has a single child.
        loop {
            match &mut self.root {
                Node::Inner(n) if n.children.len() == 1 => {
                    let child = n.children.pop().expect("one child");
                    self.root = child;
                }
                Node::Inner(n) if n.children.is_empty() => {
                    self.root = Node::Leaf(Leaf::default());
                }
                _ => break,
            }
        }
        true
    }

    /// The 0-based rank of `(score, member)`, if present.
    pub fn rank(&self, slab: &Slab, score: f64, member: &[u8]) -> Option<usize> {
        self.root.rank(slab, score, member)
    }

    /// The element at rank `rank`.
    pub fn select(&self, rank: usize) -> Option<(f64, u32)> {
        if rank >= self.len {
            return None;
        }
        self.root.select(rank)
    }

    /// The number of leading elements for which `before` is true (it must
    /// be true for a prefix of the order and false after).
    pub fn partition_point(&self, mut before: impl FnMut(f64, u32) -> bool) -> usize {
        if self.len == 0 {
            return 0;
        }
        self.root.partition_point(&mut before)
    }

    /// Calls `f` with the elements from rank `from` upwards until it
    /// returns false.
    pub fn walk(&self, from: usize, mut f: impl FnMut(f64, u32) -> bool) {
        if from < self.len {
            self.root.walk(from, &mut f);
        }
    }

    /// Calls `f` with the elements from rank `from` downwards until it
    /// returns false.
    pub fn walk_rev(&self, from: usize, mut f: impl FnMut(f64, u32) -> bool) {
        if self.len > 0 {
            self.root.walk_rev(from.min(self.len - 1), &mut f);
        }
    }

    /// Bytes used by the nodes.
    pub fn memory(&self) -> usize {
        self.root.memory()
    }

    #[cfg(test)]
    pub(crate) fn check(&self, slab: &Slab) {
        assert_eq!(self.root.check(slab, true), self.len);
    }
}
