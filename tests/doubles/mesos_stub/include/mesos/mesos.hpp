// Test-only stand-in for the Mesos module API; not Mesos code (see tests/doubles/mesos_stub/README.md).
// The protobuf messages the hook reads, as plain structs with the same accessors. Repeated
// fields are vectors: the glue only iterates them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mesos {

#define MXQ_STUB_STRING_FIELD(name)                        \
  const std::string& name() const { return name##_; }      \
  void set_##name(const std::string& value) { name##_ = value; } \
  std::string name##_;

struct Parameter
{
  MXQ_STUB_STRING_FIELD(key)
  MXQ_STUB_STRING_FIELD(value)
};

struct Parameters
{
  const std::vector<Parameter>& parameter() const { return parameter_; }
  Parameter* add_parameter() { return &parameter_.emplace_back(); }
  std::vector<Parameter> parameter_;
};

struct Value
{
  enum Type { SCALAR = 0, RANGES = 1, SET = 2, TEXT = 3 };
  struct Scalar
  {
    double value() const { return value_; }
    double value_ = 0;
  };
};

struct Resource
{
  struct DiskInfo
  {
    bool has_persistence() const { return persistence_; }
    bool has_source() const { return source_; }
    bool persistence_ = false;
    bool source_ = false;
  };
  MXQ_STUB_STRING_FIELD(name)
  Value::Type type() const { return type_; }
  const Value::Scalar& scalar() const { return scalar_; }
  bool has_disk() const { return disk_.has_value(); }
  const DiskInfo& disk() const { return *disk_; }
  Value::Type type_ = Value::SCALAR;
  Value::Scalar scalar_;
  std::optional<DiskInfo> disk_;
};

struct Label
{
  MXQ_STUB_STRING_FIELD(key)
  bool has_value() const { return value_.has_value(); }
  const std::string& value() const { return *value_; }
  std::optional<std::string> value_;
};

struct Labels
{
  const std::vector<Label>& labels() const { return labels_; }
  std::vector<Label> labels_;
};

struct FrameworkID
{
  MXQ_STUB_STRING_FIELD(value)
};

struct ExecutorID
{
  MXQ_STUB_STRING_FIELD(value)
};

struct ContainerID
{
  MXQ_STUB_STRING_FIELD(value)
  // a nested container's parent (task groups, the default executor); Mesos: optional ContainerID parent
  bool has_parent() const { return parent_ != nullptr; }
  const ContainerID& parent() const { return *parent_; }
  std::shared_ptr<ContainerID> parent_;
};

struct FrameworkInfo
{
  const FrameworkID& id() const { return id_; }
  FrameworkID id_;
};

struct SlaveID
{
  MXQ_STUB_STRING_FIELD(value)
};

struct SlaveInfo
{
  bool has_id() const { return !id_.value().empty(); }
  const SlaveID& id() const { return id_; }
  SlaveID id_;
};

struct Environment
{
  struct Variable
  {
    MXQ_STUB_STRING_FIELD(name)
    MXQ_STUB_STRING_FIELD(value)
  };
  const std::vector<Variable>& variables() const { return variables_; }
  std::vector<Variable> variables_;
};

struct ExecutorInfo
{
  const ExecutorID& executor_id() const { return executor_id_; }
  const FrameworkID& framework_id() const { return framework_id_; }
  const std::vector<Resource>& resources() const { return resources_; }
  const Labels& labels() const { return labels_; }
  ExecutorID executor_id_;
  FrameworkID framework_id_;
  std::vector<Resource> resources_;
  Labels labels_;
};

struct TaskInfo
{
  const std::vector<Resource>& resources() const { return resources_; }
  const Labels& labels() const { return labels_; }
  std::vector<Resource> resources_;
  Labels labels_;
};

struct DockerTaskExecutorPrepareInfo
{
};

#undef MXQ_STUB_STRING_FIELD

} // namespace mesos
