// Test-only stand-in for the Mesos module API; not Mesos code (see hook/test/mesos_stub/README.md).
#pragma once

struct Nothing
{
};
