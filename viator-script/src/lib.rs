//! Viator's Lua scripting.
//!
//! This crate will hold EVAL, EVALSHA and FUNCTION on Lua 5.1 (through
//! `mlua`), the sandbox Redis scripts expect, and the conversions between
//! Redis replies and Lua values. Until it lands, the server keeps an empty
//! script cache and function registry so that SCRIPT FLUSH and FUNCTION
//! FLUSH, which test harnesses send before every test, succeed.
