"""Deep Q-learning as the PyTorch DQN tutorial writes it (with the Double-DQN target of its common
variants), run on ember and on torch from the same weights on a small deterministic environment.

A replay memory sampled with ``randint``/``randperm`` from a seeded ``Generator``; epsilon-greedy
actions from ``rand(generator=...)`` and ``max(1).indices.view(1, 1)``; ``Transition(*zip(*batch))``
with a boolean ``non_final_mask`` built from a tuple; ``gather`` of the taken actions' Q-values;
``next_state_values[non_final_mask] = target_net(...).max(1).values`` under ``no_grad``;
``SmoothL1Loss``; ``clip_grad_value_``; AdamW with ``amsgrad=True``; the target network updated
softly through its ``state_dict``/``load_state_dict`` or hard-synced every few steps.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import pytest
from public_programs import assert_same_models, assert_same_run, copy_weights, torch

import ember

Transition = namedtuple("Transition", ("state", "action", "next_state", "reward"))
N_OBSERVATIONS, N_ACTIONS, BATCH_SIZE, GAMMA, TAU = 4, 3, 8, 0.99, 0.05


class ToyEnv:
    """A deterministic environment: the action pushes a 4-d state; an episode ends when it leaves
    the unit box or after 12 steps."""

    def __init__(self):
        self.rng = np.random.default_rng(0)

    def reset(self):
        self.t, self.state = 0, self.rng.uniform(-0.5, 0.5, N_OBSERVATIONS).astype(np.float32)
        return self.state

    def step(self, action):
        push = np.array([[0.3, -0.1, 0.0, 0.2], [-0.2, 0.2, 0.1, 0.0], [0.0, 0.0, -0.3, -0.1]], np.float32)[action]
        self.state = np.tanh(1.1 * self.state[::-1] + push).astype(np.float32)
        self.t += 1
        reward = 1.0 - float(np.abs(self.state).sum())
        terminated = bool(np.abs(self.state).max() > 0.9)
        return self.state, reward, terminated, self.t >= 12


def build(lib):
    nn, F = lib.nn, lib.nn.functional

    class DQN(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer1 = nn.Linear(N_OBSERVATIONS, 32)
            self.layer2 = nn.Linear(32, 32)
            self.layer3 = nn.Linear(32, N_ACTIONS)

        def forward(self, x):
            x = F.relu(self.layer1(x))
            x = F.relu(self.layer2(x))
            return self.layer3(x)

    return DQN


def run_dqn(lib, reference, variant, episodes=3):
    DQN = build(lib)
    policy_net, target_net = DQN(), DQN()
    copy_weights(reference, policy_net)
    target_net.load_state_dict(policy_net.state_dict())
    optimizer = lib.optim.AdamW(policy_net.parameters(), lr=1e-3, amsgrad=True)
    generator = lib.Generator().manual_seed(1234)
    memory, env, steps_done, record = [], ToyEnv(), 0, []

    def select_action(state):
        nonlocal steps_done
        sample = lib.rand((), generator=generator).item()
        eps_threshold = 0.05 + (0.9 - 0.05) * math.exp(-1.0 * steps_done / 20)
        steps_done += 1
        if sample > eps_threshold:
            with lib.no_grad():
                return policy_net(state).max(1).indices.view(1, 1)
        return lib.randint(0, N_ACTIONS, (1, 1), generator=generator)

    def optimize_model():
        if len(memory) < BATCH_SIZE:
            return
        if variant == "double":
            picks = lib.randperm(len(memory), generator=generator)[:BATCH_SIZE].tolist()
        else:
            picks = lib.randint(0, len(memory), (BATCH_SIZE,), generator=generator).tolist()
        batch = Transition(*zip(*[memory[i] for i in picks]))
        non_final_mask = lib.tensor(tuple(map(lambda s: s is not None, batch.next_state)), dtype=lib.bool)
        non_final_next_states = lib.cat([s for s in batch.next_state if s is not None])
        state_batch, action_batch = lib.cat(batch.state), lib.cat(batch.action)
        reward_batch = lib.cat(batch.reward)
        state_action_values = policy_net(state_batch).gather(1, action_batch)
        next_state_values = lib.zeros(BATCH_SIZE)
        with lib.no_grad():
            if variant == "double":
                next_actions = policy_net(non_final_next_states).argmax(1, keepdim=True)
                values = target_net(non_final_next_states).gather(1, next_actions).squeeze(1)
            else:
                values = target_net(non_final_next_states).max(1).values
            next_state_values[non_final_mask] = values
        expected_state_action_values = (next_state_values * GAMMA) + reward_batch
        loss = lib.nn.SmoothL1Loss()(state_action_values, expected_state_action_values.unsqueeze(1))
        optimizer.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
        optimizer.step()
        record.append(loss)

    for _ in range(episodes):
        state = lib.tensor(env.reset(), dtype=lib.float32).unsqueeze(0)
        while True:
            action = select_action(state)
            record.append(action)
            observation, reward, terminated, truncated = env.step(action.item())
            reward = lib.tensor([reward])
            next_state = None if terminated else lib.tensor(observation, dtype=lib.float32).unsqueeze(0)
            memory.append(Transition(state, action, next_state, reward))
            state = next_state
            optimize_model()
            if variant == "double":
                if steps_done % 5 == 0:
                    target_net.load_state_dict(policy_net.state_dict())
            else:
                target_net_state_dict = target_net.state_dict()
                policy_net_state_dict = policy_net.state_dict()
                for key in policy_net_state_dict:
                    target_net_state_dict[key] = policy_net_state_dict[key] * TAU + target_net_state_dict[key] * (
                        1 - TAU
                    )
                target_net.load_state_dict(target_net_state_dict)
            if terminated or truncated:
                break
    return (policy_net, target_net), record


@pytest.mark.parametrize("variant", ["soft_update", "double"])
def test_dqn_matches_torch(variant):
    torch.manual_seed(0)
    reference = build(torch)()
    (theirs, their_target), their_record = run_dqn(torch, reference, variant)
    (ours, our_target), our_record = run_dqn(ember, reference, variant)
    assert len(their_record) > 20
    assert_same_run(our_record, their_record)
    assert_same_models(ours, theirs)
    assert_same_models(our_target, their_target)
