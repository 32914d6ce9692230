// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors
//
// The project ids the hook may hand out: a configured range, lowest free id first (like Mesos's
// disk/xfs isolator). A bitmap: 10,000 ids cost 1.25 KiB.

#ifndef MXQ_PROJECT_IDS_HPP
#define MXQ_PROJECT_IDS_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace mxq {

class ProjectIds
{
public:
  ProjectIds(uint32_t first, uint32_t last);

  // The lowest free id, now marked used; none when the range is exhausted.
  std::optional<uint32_t> take();
  void mark(uint32_t id);
  void free(uint32_t id);

  bool contains(uint32_t id) const { return id >= first_ && id <= last_; }
  bool used(uint32_t id) const;
  size_t in_use() const { return in_use_; }
  size_t capacity() const { return static_cast<size_t>(last_ - first_) + 1; }
  uint32_t first() const { return first_; }
  uint32_t last() const { return last_; }

private:
  uint32_t first_;
  uint32_t last_;
  std::vector<uint64_t> words_;
  size_t lowest_free_word_ = 0; // no free bit below this word
  size_t in_use_ = 0;
};

} // namespace mxq

#endif // MXQ_PROJECT_IDS_HPP
