//! Viator's replication, Sentinel and Cluster.
//!
//! This crate will hold the cluster bus and slot map, the replication
//! protocol (PSYNC, backlog, replica state) and the Sentinel logic, all
//! compatible with Redis's own protocols. Nothing is here yet: the
//! replication and cluster issues bring it.
