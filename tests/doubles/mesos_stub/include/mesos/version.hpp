// Test-only stand-in for the Mesos module API; not Mesos code (see tests/doubles/mesos_stub/README.md).
#pragma once

// The version the test double reports as its own; CMake can set another to test mismatches.
#ifndef MESOS_VERSION
#define MESOS_VERSION "1.11.0"
#endif
