//! The consent ledger as an append-only Merkle tree, hashed as RFC 6962 / RFC 9162 define it
//! (leaf `SHA-256(0x00 ‖ leaf)`, node `SHA-256(0x01 ‖ left ‖ right)`), through the `ct-merkle`
//! crate. Leaf *i* is the chain hash (32 bytes) of the event with `seq = i + 1`, which covers the
//! event's content and, through the chain, every event before it.
//!
//! A signed tree head (size, root, time) commits to a prefix of the ledger; an inclusion proof
//! shows one event is in it, and a consistency proof shows a later head extends an earlier one.

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use sha2::Sha256;

/// A 32-byte hash (a leaf, a root, or a node of a proof).
pub type Hash = [u8; 32];

/// The tree over the ledger's events, in `seq` order.
#[derive(Clone, Debug, Default)]
pub struct LedgerTree(MemoryBackedTree<Sha256, Hash>);

impl LedgerTree {
    pub fn from_leaves(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut tree = Self::default();
        for leaf in leaves {
            tree.push(leaf);
        }
        tree
    }

    pub fn push(&mut self, leaf: Hash) {
        self.0.push(leaf);
    }

    /// Leaf `index`, if the tree has it.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.0.get(usize::try_from(index).ok()?).copied()
    }

    /// The index of the first leaf equal to `leaf`.
    pub fn position(&self, leaf: &Hash) -> Option<u64> {
        self.0.items().iter().position(|l| l == leaf).and_then(|i| u64::try_from(i).ok())
    }

    /// How many events the tree holds.
    pub fn size(&self) -> u64 {
        self.0.len()
    }

    /// The root over every leaf (`SHA-256("")` for the empty tree).
    pub fn root(&self) -> Hash {
        (*self.0.root().as_bytes()).into()
    }

    /// The tree of the first `size` leaves (`None` past the end).
    pub fn prefix(&self, size: u64) -> Option<Self> {
        let size = usize::try_from(size).ok()?;
        let leaves = self.0.items().get(..size)?;
        Some(Self::from_leaves(leaves.iter().copied()))
    }

    /// The audit path of leaf `index` in this tree (RFC 9162 §2.1.3.1), nearest sibling first.
    pub fn inclusion(&self, index: u64) -> Option<Vec<Hash>> {
        (index < self.size()).then(|| split(self.0.prove_inclusion(usize::try_from(index).ok()?).as_bytes()))?
    }

    /// The consistency proof from the tree's first `old_size` leaves to all of it (RFC 9162
    /// §2.1.4.1). `None` unless `0 < old_size <= size`; from a size to itself the proof is empty.
    pub fn consistency(&self, old_size: u64) -> Option<Vec<Hash>> {
        if old_size == 0 || old_size > self.size() {
            return None;
        }
        if old_size == self.size() {
            return Some(Vec::new());
        }
        let additions = usize::try_from(self.size() - old_size).ok()?;
        split(self.0.prove_consistency(additions).as_bytes())
    }
}

/// A growing tree's root, kept as its right edge: the roots of the complete subtrees its leaves
/// make up so far, largest first (one per set bit of the size). Pushing a leaf merges equal
/// subtrees like a binary carry, so n leaves cost about 2n hashes and the edge holds at most 64
/// nodes, where [`LedgerTree`] keeps every node (96 bytes a leaf) and rehashes the path to the
/// root on every push (n log n hashes). For signing heads, which need only the root; proofs
/// need the nodes and use [`LedgerTree`]. The root is RFC 9162's `MTH` (§2.1.1), the same as
/// ct-merkle's (a test compares them at every size up to 1 100).
#[derive(Clone, Debug, Default)]
pub struct TreeEdge {
    size: u64,
    /// (height, root) of each complete subtree, from the left.
    subtrees: Vec<(u32, Hash)>,
}

impl TreeEdge {
    pub fn push(&mut self, leaf: &Hash) {
        let mut node = (0, hash_parts(&[&[0x00], leaf]));
        while let Some(&(height, left)) = self.subtrees.last()
            && height == node.0
        {
            self.subtrees.pop();
            node = (height + 1, hash_parts(&[&[0x01], &left, &node.1]));
        }
        self.subtrees.push(node);
        self.size += 1;
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// `MTH` of the leaves so far: for n leaves, the node over the first k (the largest power of
    /// two below n) and the rest, which is the complete subtrees folded from the right.
    pub fn root(&self) -> Hash {
        match self.subtrees.split_last() {
            None => hash_parts(&[]),
            Some((&(_, last), rest)) => {
                rest.iter().rev().fold(last, |right, (_, left)| hash_parts(&[&[0x01], left, &right]))
            }
        }
    }
}

fn hash_parts(parts: &[&[u8]]) -> Hash {
    use sha2::Digest;
    parts.iter().fold(Sha256::new(), |hasher, part| hasher.chain_update(part)).finalize().into()
}

fn split(bytes: &[u8]) -> Option<Vec<Hash>> {
    bytes.chunks(32).map(|c| Hash::try_from(c).ok()).collect()
}

fn join(proof: &[Hash]) -> Vec<u8> {
    proof.iter().flatten().copied().collect()
}

/// Leaf `leaf` is at `index` in the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(root: &Hash, size: u64, index: u64, leaf: &Hash, proof: &[Hash]) -> bool {
    let Ok(proof) = InclusionProof::<Sha256>::try_from_bytes(join(proof)) else { return false };
    RootHash::<Sha256>::new((*root).into(), size).verify_inclusion(leaf, index, &proof).is_ok()
}

/// The tree of `new_size` leaves with root `new_root` extends the one of `old_size` with
/// `old_root` (a prefix of it, nothing rewritten).
pub fn verify_consistency(old_root: &Hash, old_size: u64, new_root: &Hash, new_size: u64, proof: &[Hash]) -> bool {
    if old_size == 0 || old_size > new_size {
        return false;
    }
    if old_size == new_size {
        return proof.is_empty() && old_root == new_root;
    }
    let Ok(proof) = ConsistencyProof::<Sha256>::try_from_bytes(join(proof)) else { return false };
    let old = RootHash::<Sha256>::new((*old_root).into(), old_size);
    RootHash::<Sha256>::new((*new_root).into(), new_size).verify_consistency(&old, &proof).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    fn leaf(i: u8) -> Hash {
        Sha256::digest([i]).into()
    }

    fn tree(n: u8) -> LedgerTree {
        LedgerTree::from_leaves((0..n).map(leaf))
    }

    #[test]
    fn the_edge_has_ct_merkles_root_at_every_size() {
        let mut full = LedgerTree::default();
        let mut edge = TreeEdge::default();
        assert_eq!(edge.root(), full.root(), "the empty tree");
        for i in 0..1100u32 {
            let leaf: Hash = Sha256::digest(i.to_be_bytes()).into();
            full.push(leaf);
            edge.push(&leaf);
            assert_eq!((edge.size(), edge.root()), (full.size(), full.root()), "{} leaves", i + 1);
        }
    }

    /// RFC 6962 hashing by hand, for two leaves: the crate agrees with the specification.
    #[test]
    fn hashing_is_rfc_6962() {
        let h = |parts: &[&[u8]]| -> Hash {
            let mut d = Sha256::new();
            for p in parts {
                d.update(p);
            }
            d.finalize().into()
        };
        let (a, b) = (leaf(0), leaf(1));
        let root = h(&[&[1], &h(&[&[0], &a]), &h(&[&[0], &b])]);
        assert_eq!(tree(2).root(), root);
        assert_eq!(LedgerTree::default().root(), h(&[b""]), "the empty tree's root is SHA-256 of nothing");
    }

    #[test]
    fn every_leaf_of_every_size_proves_its_inclusion() {
        for n in 1..=9u8 {
            let t = tree(n);
            for i in 0..n {
                let proof = t.inclusion(u64::from(i)).expect("in range");
                assert!(verify_inclusion(&t.root(), t.size(), u64::from(i), &leaf(i), &proof), "{i} of {n}");
                assert!(!verify_inclusion(&t.root(), t.size(), u64::from(i), &leaf(i + 100), &proof));
            }
            assert_eq!(t.inclusion(u64::from(n)), None);
        }
    }

    #[test]
    fn a_later_tree_proves_it_extends_every_earlier_one_and_a_rewritten_one_cannot() {
        let t = tree(7);
        for old in 1..=7 {
            let earlier = t.prefix(old).expect("a prefix");
            let proof = t.consistency(old).expect("in range");
            assert!(verify_consistency(&earlier.root(), old, &t.root(), 7, &proof), "{old} to 7");
        }
        let rewritten = LedgerTree::from_leaves([leaf(0), leaf(9), leaf(2)].into_iter().chain((3..7).map(leaf)));
        let proof = rewritten.consistency(3).expect("in range");
        assert!(!verify_consistency(&tree(3).root(), 3, &rewritten.root(), 7, &proof), "leaf 1 was rewritten");
        assert_eq!(t.consistency(0), None);
        assert_eq!(t.consistency(8), None);
    }
}
