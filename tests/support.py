"""Helpers several test files share (``tests/`` is on pytest's path)."""

import gymnasium as gym
import numpy as np


class BarEnv(gym.Env):
    """A synthetic frame env (no ROM): a bright bar on the left or the right of a dark frame.

    Pressing the button on the bar's side (action 0 = left, 1 = right) scores 1.  Each step
    draws a new side; an episode is ``length`` steps and then terminates.  The optimal policy
    scores ``length``, a random one ``length / 2``."""

    def __init__(self, size: int = 36, length: int = 8):
        self.size, self.length = size, length
        self.observation_space = gym.spaces.Box(0, 255, (size, size), np.uint8)
        self.action_space = gym.spaces.Discrete(2)

    def _frame(self) -> np.ndarray:
        frame = np.zeros((self.size, self.size), np.uint8)
        half = self.size // 2
        columns = slice(2, half - 2) if self.side == 0 else slice(half + 2, self.size - 2)
        frame[4:-4, columns] = 255
        return frame

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.side = 0, int(self.np_random.integers(2))
        return self._frame(), {}

    def step(self, action):
        reward = float(action == self.side)
        self.t += 1
        self.side = int(self.np_random.integers(2))
        return self._frame(), reward, self.t >= self.length, False, {}


def bar_env(**kwargs) -> gym.Env:
    return gym.wrappers.FrameStackObservation(BarEnv(**kwargs), 4)


# --- the frame replay memory ------------------------------------------------------------
