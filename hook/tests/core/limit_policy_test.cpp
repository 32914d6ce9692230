// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The limit policy (decide_limits, merge) and which containers leave the seccomp profile.

#include <string>

#include "limit_policy.hpp"
#include "test_support.hpp"

using namespace mxq;
using namespace mxq::testing;

TEST(PureLimitPolicy, LimitPolicy)
{
  Config config = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "1g"}, {"max_limit", "2g"},
                         {"limit_label", "quota"}, {"headroom_percent", "10"}, {"soft_limit_percent", "80"}})
                      .value();
  Limits from_default = decide_limits(config, {}, 0).limits;
  EXPECT_EQ(from_default.hard_bytes, (1ull << 30) + (1ull << 30) / 10);
  EXPECT_EQ(from_default.soft_bytes, (1ull << 30) / 100 * 80 + (1ull << 30) % 100 * 80 / 100);
  EXPECT_EQ(decide_limits(config, {100, {}}, 0).limits.hard_bytes, 110 * kMiB);
  EXPECT_EQ(decide_limits(config, {100, {{"quota", "50m"}}}, 0).limits.hard_bytes, 55 * kMiB); // label wins
  Decision bad = decide_limits(config, {100, {{"quota", "lots"}}}, 0);
  EXPECT_TRUE(bad.label_refused);
  EXPECT_EQ(bad.limits.hard_bytes, 110 * kMiB) << "a bad label is ignored, not obeyed or fatal";
  EXPECT_NE(bad.note.find("label quota: cannot read 'lots'"), std::string::npos) << bad.note;
}

TEST(PureLimitPolicy, ALabelNeverLiftsTheQuota)
{
  Config config = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "1g"}, {"max_limit", "2g"},
                         {"headroom_percent", "10"}})
                      .value();
  // 0 is "no limit" to XFS: refused, for a task with and without disk, with and without max_limit
  Config uncapped = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "1m"}}).value();
  for (const Config* policy : {&config, &uncapped}) {
    for (const char* zero : {"0", "0g", "0.0m"}) {
      for (double disk : {0.0, 100.0}) {
        Decision decision = decide_limits(*policy, {disk, {{"xfs_quota.limit", zero}}}, 0);
        EXPECT_NE(decision.limits.hard_bytes, 0u) << zero << " with disk " << disk;
        EXPECT_TRUE(decision.label_refused) << zero;
        EXPECT_NE(decision.note.find("0 would mean no limit"), std::string::npos) << decision.note;
      }
    }
    Decision tiny = decide_limits(*policy, {0, {{"xfs_quota.limit", "0.1"}}}, 0); // rounds to 0 bytes
    EXPECT_NE(tiny.limits.hard_bytes, 0u);
    EXPECT_TRUE(tiny.label_refused);
  }
  // max_limit holds for the whole hard limit, headroom included, and the cap is noted
  Decision capped = decide_limits(config, {0, {{"xfs_quota.limit", "10g"}}}, 0);
  EXPECT_EQ(capped.limits.hard_bytes, 2ull << 30);
  EXPECT_NE(capped.note.find("capped at max_limit"), std::string::npos) << capped.note;
  EXPECT_EQ(decide_limits(config, {0, {{"xfs_quota.limit", "1.9g"}}}, 0).limits.hard_bytes, 2ull << 30);
  EXPECT_EQ(decide_limits(config, {0, {{"xfs_quota.limit", "1k"}}}, 0).limits.hard_bytes, 1024u + 102u);
}

// Found by fuzz_labels (disk_request_overflow, limit_overflow): a request or headroom beyond what
// XFS records saturates at 2^63-1 bytes, never wraps around or converts a double out of range.
TEST(PureLimitPolicy, HugeRequestsSaturateAtTheLargestLimitXfsRecords)
{
  constexpr uint64_t kMaxBytes = 9223372036854775807ull;
  Config uncapped = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"headroom_percent", "200"}}).value();
  for (double disk : {1.76e13, 1e14, 9.2e15}) { // MB; Mesos holds up to 2^63/1000
    EXPECT_EQ(decide_limits(uncapped, {disk, {}}, 0).limits.hard_bytes, kMaxBytes) << disk;
  }
  EXPECT_EQ(decide_limits(uncapped, {0, {{"xfs_quota.limit", "8191p"}}}, 0).limits.hard_bytes, kMaxBytes);
  Config capped = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "1g"}, {"max_limit", "2g"},
                         {"headroom_percent", "1000"}})
                      .value();
  EXPECT_EQ(decide_limits(capped, {1e14, {}}, 0).limits.hard_bytes, 2ull << 30);
  EXPECT_EQ(decide_limits(capped, {0, {{"xfs_quota.limit", "8191p"}}}, 0).limits.hard_bytes, 2ull << 30);
}

TEST(PureLimitPolicy, OneMergeRuleTheTaskLabelWins)
{
  DiskRequest executor{1, {{"xfs_quota.limit", "1g"}, {"team", "a"}}};
  DiskRequest task{2, {{"xfs_quota.limit", "3g"}}};
  DiskRequest merged = merge(executor, task);
  EXPECT_EQ(merged.disk_mb, 3);
  EXPECT_EQ(merged.labels.at("xfs_quota.limit"), "3g");
  EXPECT_EQ(merged.labels.at("team"), "a");
  EXPECT_EQ(merge(task, executor).labels.at("xfs_quota.limit"), "1g") << "the later request's label wins";
}

TEST(PureLimitPolicy, InodesAreLimitedOnePerBlockOfTheLimit)
{
  Config config = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "1m"},
                         {"soft_limit_percent", "50"}})
                      .value();
  Limits limits = decide_limits(config, {10, {}}, 0).limits;
  EXPECT_EQ(limits.hard_inodes, 10 * kMiB / 4096);
  EXPECT_EQ(limits.soft_inodes, 5 * kMiB / 4096);
  EXPECT_EQ(decide_limits(config, {0, {{"xfs_quota.limit", "1k"}}}, 0).limits.hard_inodes, 1u) << "never 0 (no limit)";
  Config none = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"bytes_per_inode", "0"}}).value();
  EXPECT_EQ(decide_limits(none, {10, {}}, 0).limits.hard_inodes, 0u) << "bytes_per_inode 0: no inode limit";
  Config accounting = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}}).value();
  EXPECT_EQ(decide_limits(accounting, {}, 0).limits.hard_inodes, 0u) << "no block limit, no inode limit";
}

TEST(PureLimitPolicy, WithoutMaxLimitTheFileSystemsSizeCapsEveryLimit)
{
  Config config = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "1m"}}).value();
  const uint64_t filesystem = 512 * kMiB;
  Decision huge = decide_limits(config, {0, {{"xfs_quota.limit", "8191p"}}}, filesystem);
  EXPECT_EQ(huge.limits.hard_bytes, filesystem);
  EXPECT_NE(huge.note.find("capped at the file system's size 536870912 bytes"), std::string::npos) << huge.note;
  EXPECT_EQ(decide_limits(config, {1e9, {}}, filesystem).limits.hard_bytes, filesystem) << "a disk request too";
  EXPECT_EQ(decide_limits(config, {10, {}}, filesystem).limits.hard_bytes, 10 * kMiB);
  Config capped = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "1m"}, {"max_limit", "1t"}})
                      .value();
  EXPECT_EQ(decide_limits(capped, {0, {{"xfs_quota.limit", "2t"}}}, filesystem).limits.hard_bytes, 1ull << 40)
      << "max_limit, when set, is the operator's cap";
}

TEST(PureSeccompOptOut, WhatLeavesTheProfileIsNamed)
{
  EXPECT_EQ(seccomp_opt_out({}), "");
  EXPECT_EQ(seccomp_opt_out({true, {}, false}), "--privileged");
  EXPECT_EQ(seccomp_opt_out({false, {}, true}), "LinuxInfo.seccomp.unconfined");
  const std::vector<std::pair<std::pair<std::string, std::string>, std::string>> cases = {
      {{"security-opt", "seccomp=unconfined"}, "--security-opt=seccomp=unconfined"},
      {{"security-opt", "seccomp:unconfined"}, "--security-opt=seccomp:unconfined"},
      {{"security-opt", "Seccomp=/etc/other-profile.json"}, "--security-opt=Seccomp=/etc/other-profile.json"},
      {{"privileged", "true"}, "--privileged=true"},
      {{"cap-add", "SYS_ADMIN"}, "--cap-add=SYS_ADMIN"},
      {{"cap-add", "cap_sys_admin"}, "--cap-add=cap_sys_admin"},
      {{"cap-add", "NET_ADMIN,ALL"}, "--cap-add=NET_ADMIN,ALL"},
      {{"cap-add", "FOWNER"}, "--cap-add=FOWNER"},
  };
  for (const auto& [parameter, shown] : cases) {
    EXPECT_EQ(seccomp_opt_out({false, {parameter}, false}), shown) << parameter.first << "=" << parameter.second;
  }
  for (const auto& harmless : std::vector<std::pair<std::string, std::string>>{
           {"security-opt", "no-new-privileges"}, {"security-opt", "apparmor=unconfined"}, {"privileged", "false"},
           {"cap-add", "NET_ADMIN"}, {"cap-drop", "ALL"}, {"storage-opt", "size=20m"}}) {
    EXPECT_EQ(seccomp_opt_out({false, {harmless}, false}), "") << harmless.first << "=" << harmless.second;
  }
}
