"""Team up with your robot: the TF workshop's human takeover, on a trained keras_dqn agent.

    python examples/human_in_the_loop.py                    # the shipped agent, you help when it is unsure
    python examples/human_in_the_loop.py --margin 5         # ask more often
    yes 1 | python examples/human_in_the_loop.py            # piped input works: always answer "right"
    python examples/human_in_the_loop.py --render           # watch in a window while you answer

The workshop's idea: Q(s, a) is the return the agent expects from here.  The start state's
best Q-value is what a healthy episode looks like; when the best Q-value of the current state
falls to ``max Q(start) - margin`` or lower, the agent thinks it is in trouble, so it asks
you: type 0 (push left) or 1 (push right) and press Enter.  Anything else is asked again.
If input ends (EOF, e.g. a pipe runs dry), the agent says so and plays the rest alone.

About ``--margin``: the workshop used 0.2 on its network's Q scale.  The shipped agent
(gamma 0.95) starts near Q = 30 and cruises around 10-20 even when all is well, so 0.2 would
ask at almost every step; the default 20 asks only in its lowest moments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import IO

import gymnasium as gym
import numpy as np

import keras_dqn

ACTIONS = {0: "left", 1: "right"}


def ask_human(stream: IO[str], out: IO[str] = sys.stdout) -> Callable[[float, float], int | None]:
    """A question function reading answers from ``stream``, one per line.

    The returned ``ask(max_q, threshold)`` prompts on ``out`` and returns 0 or 1; on any
    other answer it says what it expected and asks again; at end of input it returns ``None``.
    """

    def ask(max_q: float, threshold: float) -> int | None:
        while True:
            print(f"Max expected: {max_q:.3f} (threshold {threshold:.3f}) left (0) or right (1): ", end="", file=out)
            out.flush()
            line = stream.readline()
            if line == "":  # EOF
                print(file=out)
                return None
            answer = line.strip()
            if answer in ("0", "1"):
                print(f"Performing: {answer} ({ACTIONS[int(answer)]})", file=out)
                return int(answer)
            print(f"{answer!r} is not an action: type 0 (left) or 1 (right)", file=out)

    return ask


def team_up(
    agent,
    env: gym.Env,
    margin: float,
    ask: Callable[[float, float], int | None],
    *,
    seed: int = 0,
    max_steps: int | None = None,
    say: Callable[[str], None] = print,
) -> dict:
    """Play one greedy episode, asking ``ask`` for the action whenever the agent is unsure.

    The agent is unsure when ``max_a Q(s, a) <= max_a Q(s_0, a) - margin`` (``s_0``: the
    episode's first state).  When ``ask`` returns ``None`` (no more input), the agent plays
    the rest of the episode alone.

    Returns:
        ``threshold``, ``score``, ``steps``, ``asked`` (questions put), ``answered`` (steps
        played with the human's action) and ``trace``: per step ``max_q``, ``asked``,
        ``human`` (the answer or ``None``) and ``action`` (the action taken).
    """
    obs, _ = env.reset(seed=seed)
    threshold = float(agent.q_values(obs)[0].max()) - margin
    trace, score, done, human_gone = [], 0.0, False, False
    while not done:
        q = agent.q_values(obs)[0]
        max_q = float(q.max())
        asked = max_q <= threshold and not human_gone
        human = ask(max_q, threshold) if asked else None
        if asked and human is None:
            human_gone = True
            say("no more input: the agent plays on alone")
        action = human if human is not None else int(np.argmax(q))
        trace.append({"max_q": max_q, "asked": asked, "human": human, "action": action})
        obs, reward, terminated, truncated, _ = env.step(action)
        score += float(reward)
        done = terminated or truncated or (max_steps is not None and len(trace) >= max_steps)
    return {
        "threshold": threshold,
        "score": score,
        "steps": len(trace),
        "asked": sum(t["asked"] for t in trace),
        "answered": sum(t["human"] is not None for t in trace),
        "trace": trace,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default=str(keras_dqn.weights_path("cartpole-dqn")), help="a trained agent")
    parser.add_argument("--margin", type=float, default=20.0, help="ask when max Q <= max Q(start) - margin")
    parser.add_argument("--env", default="CartPole-v1", help="the env to play (answers 0 and 1: CartPole's actions)")
    parser.add_argument("--seed", type=int, default=0, help="the episode's reset seed")
    parser.add_argument("--max-steps", type=int, help="stop the episode after this many steps")
    parser.add_argument("--render", action="store_true", help="show the episode in a window")
    args = parser.parse_args()

    agent = keras_dqn.load_agent(args.weights)
    env = keras_dqn.make_env(args.env, render_mode="human" if args.render else None)
    report = team_up(agent, env, args.margin, ask_human(sys.stdin), seed=args.seed, max_steps=args.max_steps)
    env.close()
    asked_steps = [i + 1 for i, t in enumerate(report["trace"]) if t["asked"]]
    print(f"threshold: max Q {report['threshold'] + args.margin:.3f} of the start state - margin {args.margin}")
    print(f"asked the human {report['asked']} times in {report['steps']} steps "
          f"({report['answered']} answered): at steps {asked_steps}")  # fmt: skip
    print(f"final score: {report['score']:.0f}")


if __name__ == "__main__":
    main()
