"""``manage.py simulate``: the loop end to end with simulated labelers (see labelhub/ops/loop_simulation.py)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from labelhub.ops import preferences
from labelhub.ops.loop_simulation import (
    METHODS,
    Simulation,
    SimulationConfig,
    SimulationFailed,
    markdown,
    write_outputs,
)


class Command(BaseCommand):
    help = ("Run the whole loop on a fresh campaign — sampling, the labeling API, snapshots, runs as jobs, loop "
            "rounds, the leaderboard — with simulated labelers judging by a hidden preference; print one row per round.")

    def add_arguments(self, parser):
        parser.add_argument("--method", default="dpo", choices=sorted(METHODS), help="How each round trains the new version.")
        parser.add_argument("--rounds", type=int, default=2, help="Loop rounds (each trains a new version from the last).")
        parser.add_argument("--seed", type=int, default=1, help="Seed of sampling, noise and training.")
        parser.add_argument("--preference", default="addressed",
                            help=f"Hidden preference: name[:argument] ({', '.join(sorted(preferences.PREFERENCES))}) "
                                 "or package.module:function taking (prompt, answer) and returning a number.")
        parser.add_argument("--noise", type=float, default=0.1, help="Probability that a labeler answers at random.")
        parser.add_argument("--labelers", type=int, default=3, help="Simulated labelers (each judges every task).")
        parser.add_argument("--samples", type=int, default=4, help="Answers per train prompt per round (K of the rank tasks).")
        parser.add_argument("--held-out", "--heldout", dest="held_out", type=int, default=50,
                            help="Held-out prompts the versions are compared on (--heldout: the old spelling, deprecated).")
        parser.add_argument("--eval-samples", type=int, default=4, help="Answers per held-out prompt and version.")
        parser.add_argument("--reward-steps", type=int, default=None,
                            help=f"Reward-model steps per round (ppo; default {METHODS['ppo']['reward']['max_steps']}).")
        parser.add_argument("--policy-steps", type=int, default=None,
                            help=f"PPO steps or DPO steps per round (default {METHODS['ppo']['ppo']['steps']} "
                                 f"for ppo, {METHODS['dpo']['dpo']['max_steps']} for dpo).")
        parser.add_argument("--out", default=None, help="Folder for results.json and results.md (default: LABELHUB_DATA_DIR/simulations/<campaign>).")

    def handle(self, *args, method, rounds, seed, preference, noise, labelers, samples, held_out, eval_samples, reward_steps,
               policy_steps, out, **options):
        cfg = SimulationConfig(method=method, rounds=rounds, seed=seed, preference=preference, noise=noise,
                               labelers=labelers, samples=samples, held_out=held_out, eval_samples=eval_samples,
                               reward_steps=reward_steps, policy_steps=policy_steps, out=out or "")
        if errors := cfg.errors():
            raise CommandError("; ".join(f"--{k.replace('_', '-')}: {v}" for k, v in errors.items()))
        simulation = Simulation(cfg, progress=lambda message: self.stderr.write(message))
        try:
            result = simulation.run()
        except (SimulationFailed, ValueError) as exc:
            raise CommandError(str(exc)) from None
        folder = Path(out) if out else Path(settings.LABELHUB_DATA_DIR) / "simulations" / result.campaign
        json_path, md_path = write_outputs(result, folder)
        self.stdout.write(markdown(result))
        self.stdout.write(f"Written: {json_path} and {md_path}")
