//! Pure market rules: no I/O, no clock, no framework. Everything here is a plain function or type.
