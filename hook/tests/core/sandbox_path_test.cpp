// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// Which paths are sandboxes (confinement by name), and the id allocator.

#include <string>
#include <string_view>

#include "project_ids.hpp"
#include "sandbox_path.hpp"
#include "test_support.hpp"

using namespace mxq;
using namespace mxq::testing;

TEST(PureProjectIds, LowestFreeFirstAndExhaustion)
{
  ProjectIds ids(100, 164); // 65 ids: crosses a 64-bit word
  for (uint32_t expected = 100; expected <= 164; ++expected) {
    EXPECT_EQ(ids.take().value(), expected);
  }
  EXPECT_FALSE(ids.take().has_value());
  ids.free(130);
  ids.free(101);
  EXPECT_EQ(ids.take().value(), 101u);
  EXPECT_EQ(ids.take().value(), 130u);
  EXPECT_EQ(ids.in_use(), 65u);
  ProjectIds single(7, 7);
  single.mark(7);
  EXPECT_FALSE(single.take().has_value());
}

TEST(PureSandboxPath, OnlyRunDirectoriesBelowWorkDir)
{
  Expected<SandboxPath> good = parse_sandbox_path("/w", "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1");
  ASSERT_TRUE(good.ok()) << good.error();
  EXPECT_EQ(good.value().relative, "slaves/S1/frameworks/F1/executors/E1/runs/C1");
  EXPECT_EQ(good.value().framework_id, "F1");
  EXPECT_EQ(good.value().executor_id, "E1");
  EXPECT_EQ(good.value().agent_id, "S1");
  EXPECT_EQ(good.value().nested, "");
  for (const char* bad : {"/other/slaves/S1/frameworks/F1/executors/E1/runs/C1", "/w/slaves/S1/frameworks/F1",
                          "/w/slaves/S1/frameworks/F1/executors/E1/runs/latest",
                          "/w/slaves/S1/frameworks/../../../etc/executors/E1/runs/C1",
                          "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1/sub", "/w2/slaves/S/frameworks/F/executors/E/runs/C",
                          "/w/slaves//frameworks/F1/executors/E1/runs/C1",
                          "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1/containers",
                          "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1/containers/..",
                          "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1/other/N1",
                          "/w/slaves/S1/docker/links/C1"}) {
    Expected<SandboxPath> refused = parse_sandbox_path("/w", bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.error().find("is not a run directory of work_dir /w"), std::string::npos);
  }
}

// Found by fuzz_sandbox_path (nul_in_sandbox_path): the path is opened as a C string, which would
// end at a NUL: a shorter path than the one checked.
TEST(PureSandboxPath, ANulByteIsRefused)
{
  using namespace std::string_view_literals;
  for (std::string_view bad : {"/w/slaves/S1/frameworks/F1/executors/E1/runs/C1\0x"sv,
                               "/w/slaves/S1/frameworks/F1/executors/E\0/runs/C1"sv,
                               "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1/containers/N\0"sv}) {
    EXPECT_FALSE(parse_sandbox_path("/w", bad).ok()) << bad.size();
  }
  EXPECT_FALSE(parse_docker_link("/w", "/w/slaves/S1/docker/links/C\0x"sv).has_value());
}

TEST(PureSandboxPath, NestedContainersAndDockerLinks)
{
  // src/slave/containerizer/mesos/paths.cpp getSandboxPath: <parent sandbox>/containers/<id>
  Expected<SandboxPath> nested =
      parse_sandbox_path("/w", "/w/slaves/S1/frameworks/F1/executors/E1/runs/C1/containers/N1/containers/N2/");
  ASSERT_TRUE(nested.ok()) << nested.error();
  EXPECT_EQ(nested.value().relative, "slaves/S1/frameworks/F1/executors/E1/runs/C1");
  EXPECT_EQ(nested.value().nested, "containers/N1/containers/N2");
  EXPECT_EQ(nested.value().executor_key, "F1/executors/E1");
  std::optional<DockerLink> link = parse_docker_link("/w", "/w/slaves/S1/docker/links/C:1");
  ASSERT_TRUE(link.has_value());
  EXPECT_EQ(link->directory, "slaves/S1/docker/links");
  EXPECT_EQ(link->name, "C:1");
  EXPECT_EQ(link->agent_id, "S1");
  for (const char* bad : {"/w/slaves/S1/docker/links", "/w/slaves/S1/docker/links/..", "/w/slaves/S1/docker/other/C",
                          "/w/slaves/S1/docker/links/C/x", "/v/slaves/S1/docker/links/C"}) {
    EXPECT_FALSE(parse_docker_link("/w", bad).has_value()) << bad;
  }
}

TEST(PureSandboxPath, TheRunsDirectoryOfAnExecutor)
{
  EXPECT_EQ(runs_directory("S1", "F1", "E1").value(), "slaves/S1/frameworks/F1/executors/E1/runs");
  for (const auto& [agent, framework, executor] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"", "F1", "E1"}, {"S1", "..", "E1"}, {"S1", "F1", "a/b"}, {"S1", "F1", "."}, {"S1", "F1", std::string("E\0", 2)}}) {
    EXPECT_FALSE(runs_directory(agent, framework, executor).has_value()) << agent << " " << framework << " " << executor;
  }
}
