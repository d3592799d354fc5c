// Command libipq is the C library libipq (libipq.so / libipq.a) built from
// nfq's libipq compatibility layer: legacy ip_queue programs link with
// -lipq and run on NFQUEUE unchanged. Build it with libipq/Makefile
// (go build -buildmode=c-shared or c-archive); it is not a program.
package main

func main() {}
