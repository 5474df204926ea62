// SPDX-License-Identifier: BSD-2-Clause
#include "utcp/stack_group.hpp"

#include <stdexcept>
#include <utility>

#include "dev/tun_steering.hpp"
#include "utcp/tun.hpp"

namespace utcp {

StackGroup::StackGroup(const dev::TunOptions& tun, const StackConfig& config, size_t threads,
                       Steering steering) {
  if (threads == 0) throw std::invalid_argument("StackGroup: needs at least one thread");
  dev::TunOptions options = tun;
  options.queues = threads;
  devices_ = dev::TunDevice::open_queues(options);
  const dev::PortSteering ports(config.ephemeral_ports, threads);
  if (steering == Steering::kPorts && threads > 1 && ports.install(devices_[0]->fd()) == 0) {
    steering_ = Steering::kPorts;
  }
  for (size_t i = 0; i < devices_.size(); ++i) {
    dev::TunDevice& device = *devices_[i];
    StackConfig member = config;
    // Harmless without the program; with it, what sends the replies back to this stack.
    member.ephemeral_ports = ports.share(i);
    stacks_.push_back(std::make_unique<Stack>(device, member));
    loops_.push_back(std::make_unique<EventLoop>(*stacks_.back(), device));
    members_.push_back({stacks_.back().get(), loops_.back().get()});
  }
  errors_.resize(members_.size());
}

StackGroup::StackGroup(std::vector<Member> members) : members_(std::move(members)) {
  if (members_.empty()) throw std::invalid_argument("StackGroup: needs at least one stack");
  for (const Member& m : members_) {
    if (m.stack == nullptr || m.loop == nullptr || &m.loop->stack() != m.stack) {
      throw std::invalid_argument("StackGroup: each member needs a stack and its own loop");
    }
  }
  errors_.resize(members_.size());
}

StackGroup::~StackGroup() {
  stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  // Loops before stacks before devices: each uses the next.
  loops_.clear();
  stacks_.clear();
  devices_.clear();
}

dev::TunDevice* StackGroup::device(size_t i) {
  return i < devices_.size() ? devices_[i].get() : nullptr;
}

void StackGroup::start(Callback setup, Callback teardown) {
  if (!threads_.empty()) throw std::logic_error("StackGroup: already started");
  setup_ = std::move(setup);
  teardown_ = std::move(teardown);
  for (size_t i = 0; i < members_.size(); ++i) threads_.emplace_back([this, i] { run_member(i); });
}

void StackGroup::run_member(size_t i) {
  Member& m = members_[i];
  try {
    if (setup_) setup_(i, *m.stack, *m.loop);
    // What the setup's API calls queued (a connect's SYN) goes out at the first wakeup.
    m.loop->post([] {});
    m.loop->run();
    if (teardown_) teardown_(i, *m.stack, *m.loop);
  } catch (...) {
    errors_[i] = std::current_exception();
    stop();  // one member failing ends the group: its share of the flows has no stack now
  }
}

void StackGroup::stop() {
  for (Member& m : members_) m.loop->stop();
}

void StackGroup::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  for (auto& e : errors_) {
    if (e) std::rethrow_exception(std::exchange(e, nullptr));
  }
}

}  // namespace utcp
