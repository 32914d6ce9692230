// SPDX-License-Identifier: Apache-2.0
// Copyright (c) mesos.xfs_quota contributors

#include "project_ids.hpp"

namespace mxq {

ProjectIds::ProjectIds(uint32_t first, uint32_t last)
  : first_(first), last_(last), words_((capacity() + 63) / 64, 0)
{
  // bits past the end of the range count as used, so take() never returns them
  const size_t tail = capacity() % 64;
  if (tail != 0) {
    words_.back() = ~uint64_t{0} << tail;
  }
}

std::optional<uint32_t> ProjectIds::take()
{
  for (size_t word = lowest_free_word_; word < words_.size(); ++word) {
    if (words_[word] != ~uint64_t{0}) {
      const unsigned bit = static_cast<unsigned>(__builtin_ctzll(~words_[word]));
      words_[word] |= uint64_t{1} << bit;
      lowest_free_word_ = word;
      ++in_use_;
      return first_ + static_cast<uint32_t>(word * 64 + bit);
    }
  }
  lowest_free_word_ = words_.size();
  return std::nullopt;
}

void ProjectIds::mark(uint32_t id)
{
  if (contains(id) && !used(id)) {
    const size_t index = id - first_;
    words_[index / 64] |= uint64_t{1} << (index % 64);
    ++in_use_;
  }
}

void ProjectIds::free(uint32_t id)
{
  if (contains(id) && used(id)) {
    const size_t index = id - first_;
    words_[index / 64] &= ~(uint64_t{1} << (index % 64));
    if (index / 64 < lowest_free_word_) {
      lowest_free_word_ = index / 64;
    }
    --in_use_;
  }
}

bool ProjectIds::used(uint32_t id) const
{
  const size_t index = id - first_;
  return (words_[index / 64] >> (index % 64)) & 1u;
}

} // namespace mxq
