// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The parameters: the shared size and id-range tables, every refusal naming its parameter, and
// the check roles run before a rollout (SandboxQuotas::check, what mesos_xfs_quota_hook_check_parameters runs).

#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "test_support.hpp"

using namespace mxq;
using namespace mxq::testing;

TEST(PureConfig, SizesFollowTheSharedVectors)
{
  const nlohmann::json table = vectors("sizes.json");
  ASSERT_GT(table["vectors"].size(), 20u);
  for (const nlohmann::json& vector : table["vectors"]) {
    const std::string text = vector["text"];
    std::variant<uint64_t, SizeError> size = read_size(text);
    if (vector.contains("error")) {
      ASSERT_TRUE(std::holds_alternative<SizeError>(size)) << "'" << text << "' gave " << std::get<uint64_t>(size);
      EXPECT_EQ(name(std::get<SizeError>(size)), vector["error"].get<std::string>()) << "'" << text << "'";
      Expected<uint64_t> parsed = parse_size(text, "default_limit");
      ASSERT_FALSE(parsed.ok());
      EXPECT_EQ(parsed.error().rfind("default_limit: ", 0), 0u) << parsed.error();
    } else {
      ASSERT_TRUE(std::holds_alternative<uint64_t>(size)) << "'" << text << "': " << name(std::get<SizeError>(size));
      EXPECT_EQ(std::get<uint64_t>(size), vector["bytes"].get<uint64_t>()) << "'" << text << "'";
    }
  }
}

TEST(PureConfig, IdRangesFollowTheSharedVectors)
{
  const nlohmann::json table = vectors("project_ids.json");
  EXPECT_EQ(table["id_max"].get<uint64_t>(), kProjectIdMax);
  for (const nlohmann::json& vector : table["vectors"]) {
    const std::string text = vector["text"];
    std::variant<IdRange, RangeError> range = read_id_range(text);
    if (vector.contains("error")) {
      ASSERT_TRUE(std::holds_alternative<RangeError>(range)) << "'" << text << "'";
      EXPECT_EQ(name(std::get<RangeError>(range)), vector["error"].get<std::string>()) << "'" << text << "'";
      Expected<Config> config = Config::parse({{"work_dir", "/w"}, {"project_ids", text}});
      ASSERT_FALSE(config.ok());
      EXPECT_EQ(config.error().rfind("project_ids: '" + text + "'", 0), 0u) << config.error();
    } else {
      ASSERT_TRUE(std::holds_alternative<IdRange>(range)) << "'" << text << "': " << name(std::get<RangeError>(range));
      EXPECT_EQ(std::get<IdRange>(range).first, vector["first"].get<uint32_t>()) << "'" << text << "'";
      EXPECT_EQ(std::get<IdRange>(range).last, vector["last"].get<uint32_t>()) << "'" << text << "'";
    }
  }
}

TEST(PureConfig, EveryBadParameterIsNamed)
{
  const std::vector<std::pair<std::vector<std::pair<std::string, std::string>>, std::string>> cases = {
      {{{"project_ids", "1-2"}}, "work_dir: missing"},
      {{{"work_dir", "relative"}, {"project_ids", "1-2"}}, "work_dir: 'relative' must be"},
      {{{"work_dir", "/w"}}, "project_ids: missing"},
      {{{"work_dir", "/w"}, {"project_ids", "9-3"}}, "project_ids: '9-3' must go from"},
      {{{"work_dir", "/w"}, {"project_ids", "0-3"}}, "project_ids: '0-3' is not a range of project ids 1-"},
      {{{"work_dir", "/w"}, {"project_ids", "-3"}}, "project_ids: '-3' is not a range"},
      {{{"work_dir", "/w"}, {"project_ids", "1-4294967295"}}, "project_ids: '1-4294967295'"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "10x"}}, "default_limit: cannot read '10x'"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"headroom_percent", "1001"}}, "headroom_percent: 1001 is larger"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"strict", "maybe"}}, "strict: 'maybe' is not true or false"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"soft_limit_percent", "-5"}}, "soft_limit_percent: '-5' is not"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"max_tree_entries", "100"}}, "max_tree_entries: no longer a parameter"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"bytes_per_inode", "4x"}}, "bytes_per_inode: cannot read '4x'"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"refuse_seccomp_opt_outs", "no way"}},
       "refuse_seccomp_opt_outs: 'no way' is not true or false"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "2g"}, {"max_limit", "1g"}},
       "default_limit: larger than max_limit"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"max_limit", "1g"}}, "default_limit: 0 means no limit"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"default_limit", "0.1"}}, "default_limit: '0.1' is less than"},
      {{{"work_dir", "/w"}, {"project_ids", "1-2"}, {"defualt_limit", "1g"}}, "unknown parameter 'defualt_limit'"},
  };
  for (const auto& [parameters, message] : cases) {
    Expected<Config> config = Config::parse(parameters);
    ASSERT_FALSE(config.ok()) << message;
    EXPECT_EQ(config.error().rfind(message, 0), 0u) << config.error();
  }
  Expected<Config> mesos_style = parse({{"work_dir", "/var/lib/mesos/"}, {"project_ids", "[5000-9999]"}});
  ASSERT_TRUE(mesos_style.ok()) << mesos_style.error();
  EXPECT_EQ(mesos_style.value().work_dir, "/var/lib/mesos");
  EXPECT_EQ(mesos_style.value().project_ids.first, 5000u);
  EXPECT_EQ(mesos_style.value().project_ids.last, 9999u);
}

TEST(PureConfig, DefaultsOfTheNewParameters)
{
  Config config = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}}).value();
  EXPECT_EQ(config.bytes_per_inode, 4096u) << "one inode per 4 KiB block of the limit";
  EXPECT_TRUE(config.refuse_seccomp_opt_outs);
  Config off = parse({{"work_dir", "/w"}, {"project_ids", "1-2"}, {"bytes_per_inode", "0"},
                      {"refuse_seccomp_opt_outs", "false"}})
                   .value();
  EXPECT_EQ(off.bytes_per_inode, 0u);
  EXPECT_FALSE(off.refuse_seccomp_opt_outs);
}

// What create() checks beyond the parameters, and nothing else (no thread, nothing changed).
TEST(PureCheck, WorkDirAsCreateChecksIt)
{
  Config missing = parse({{"work_dir", "/nonexistent/mesos"}, {"project_ids", "1-2"}}).value();
  Expected<std::string> later = SandboxQuotas::check(missing);
  ASSERT_TRUE(later.ok()) << later.error();
  EXPECT_NE(later.value().find("does not exist yet"), std::string::npos) << later.value();
  Config file = parse({{"work_dir", "/etc/hostname"}, {"project_ids", "1-2"}}).value();
  Expected<std::string> not_a_directory = SandboxQuotas::check(file);
  ASSERT_FALSE(not_a_directory.ok());
  EXPECT_EQ(not_a_directory.error().rfind("work_dir: cannot open /etc/hostname", 0), 0u) << not_a_directory.error();
  Config proc = parse({{"work_dir", "/proc"}, {"project_ids", "1-2"}}).value();
  Expected<std::string> not_xfs = SandboxQuotas::check(proc);
  ASSERT_FALSE(not_xfs.ok());
  EXPECT_NE(not_xfs.error().find("not on XFS"), std::string::npos) << not_xfs.error();
}

TEST_F(Xfs, TheCheckAcceptsAnXfsWithProjectQuotaAndRefusesOneWithout)
{
  Expected<std::string> good = SandboxQuotas::check(config_for(work_dir, first, first + 9));
  ASSERT_TRUE(good.ok()) << good.error();
  EXPECT_EQ(good.value(), "");
  const char* noquota = std::getenv("MXQ_TEST_NOQUOTA");
  ASSERT_NE(noquota, nullptr) << "set MXQ_TEST_NOQUOTA to an XFS mounted without quota";
  Expected<std::string> bad = SandboxQuotas::check(config_for(noquota, first, first + 9));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("mounted without project quota enforced"), std::string::npos) << bad.error();
  EXPECT_FALSE(std::filesystem::exists(work_dir + "/slaves")) << "the check changes nothing";
}
