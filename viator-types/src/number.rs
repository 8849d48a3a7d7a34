//! Redis's number rules: strict integer parsing (`string2ll`), float parsing
//! as `strtold` accepts it, and the text forms Redis replies with.
