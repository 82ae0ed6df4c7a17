"""A grokking explorer for the static book: stored runs, picked in the browser, no kernel.

`explorer_html(runs)` turns a precomputed sweep (operation × train fraction × weight decay,
the ``explorer_sweep`` experiment) into one self-contained piece of HTML: the data as
compact JSON, a small hand-written script and an SVG chart. Nothing is fetched from the
network, so it works in the built HTML book, offline, and in a notebook.

Why hand-written rather than a plotting library: the page needs one chart type (accuracy
against log step) and a summary grid, and a Vega/Vega-Lite bundle inlined for that would
weigh about a megabyte; this weighs a few tens of kilobytes, most of it the runs themselves.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path

from grok_lib.analysis.phases import classify, grokking_summary
from grok_lib.runs.store import Store
from grok_lib.task.operations import get_operation
from grok_lib.training.config import TrainConfig
from grok_lib.training.record import Run

PHASE_COLORS = {
    "comprehension": "#2ca02c",
    "grokking": "#9467bd",
    "memorisation": "#ff7f0e",
    "confusion": "#bbbbbb",
}


def sweep_configs() -> list[TrainConfig]:
    """The configs of the ``explorer_sweep`` experiment."""
    from grok_lib.runs.experiments import get

    return get("explorer_sweep")


def load_runs(store: str | Path | Store | None = None, train_missing: bool = False, device: str | None = None,
              progress: bool = True) -> list[Run]:
    """The explorer's stored runs, read from ``store`` (default: the store's default, the checkout's ``results/``).

    Missing runs are an error that names the command to make them, unless ``train_missing``
    (the whole sweep takes several minutes on a CPU, too long to start by accident in a book build).
    """
    from grok_lib.runs.runner import sweep

    st = store if isinstance(store, Store) else Store(store)
    configs = sweep_configs()
    missing = [c for c in configs if not st.has(c)]
    if missing and not train_missing:
        raise FileNotFoundError(
            f"{len(missing)} of the {len(configs)} explorer runs are not stored in {st.root}; make them with "
            "`python -m grok_lib regenerate explorer_sweep` (or pass train_missing=True)")
    return sweep(configs, store=st, device=device, progress=progress)


def downsample(steps: Sequence[int], min_gap: float = 0.05) -> list[int]:
    """Indices of logged steps kept for a log-step plot: a point at least ``min_gap`` decades
    after the previous kept one, always the first and the last."""
    keep: list[int] = []
    last = -math.inf
    for i, s in enumerate(steps):
        x = math.log10(max(s, 1))
        if not keep or x - last >= min_gap or i == len(steps) - 1:
            keep.append(i)
            last = x
    return keep


def _variant_label(op: str, merge: str, mixed: bool) -> str:
    formula = get_operation(op).formula
    return f"{formula}, {merge} MLP" if mixed else formula


def pack(runs: Sequence[Run], min_gap: float = 0.05) -> dict:
    """The runs as a compact, deterministic dict: the grid's axes, then one entry per grid
    cell (variant-major, then train fraction, then weight decay), accuracies in thousandths.

    A *variant* is an operation with a model merge (sum or concat), in the order the runs
    first mention it; the dropdown names it by its formula (and merge, when both occur).
    """
    if not runs:
        raise ValueError("no runs to explore")
    variants = list(dict.fromkeys((r.config.op, r.config.merge) for r in runs))
    mixed = len({m for _, m in variants}) > 1
    fracs = sorted({r.config.train_frac for r in runs})
    wds = sorted({r.config.weight_decay for r in runs})
    cell: dict[tuple[str, str, float, float], Run] = {}
    for r in runs:
        key = (r.config.op, r.config.merge, r.config.train_frac, r.config.weight_decay)
        if key in cell:
            raise ValueError(f"two runs for {key}: the explorer shows one run per cell")
        cell[key] = r
    cells = []
    for op, merge in variants:
        for f in fracs:
            for w in wds:
                run = cell.get((op, merge, f, w))
                if run is None or not run.history.get("step"):
                    cells.append(None)
                    continue
                h = run.history
                idx = downsample(h["step"], min_gap)
                s = grokking_summary(h)
                cells.append({
                    "s": [int(h["step"][i]) for i in idx],
                    "t": [int(round(1000 * h["train_acc"][i])) for i in idx],
                    "v": [int(round(1000 * h["val_acc"][i])) for i in idx],
                    "m": s.memorised_at,
                    "g": s.generalised_at,
                    "ph": classify(h),
                    "b": int(run.config.steps),
                })
    c0 = runs[0].config
    closest = lambda xs, x: min(range(len(xs)), key=lambda i: (abs(xs[i] - x), i))  # noqa: E731
    return {
        "start": [0, closest(fracs, 0.6), closest(wds, 1.0)],
        "ops": [{"name": f"{op} ({merge})" if mixed else op, "formula": _variant_label(op, merge, mixed)}
                for op, merge in variants],
        "fracs": fracs,
        "wds": wds,
        "p": c0.p,
        "steps": max(r.config.steps for r in runs),
        "model": f"MLP, {c0.optimizer} lr {c0.lr:g}",
        "cells": cells,
    }


_CSS = """
.gx{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:14px;color:#222;
background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 12px;max-width:760px;}
.gx .ctl{display:flex;flex-wrap:wrap;gap:8px 18px;align-items:center;margin-bottom:6px}
.gx label{display:flex;align-items:center;gap:6px}
.gx select,.gx button{font-size:13px}
.gx input[type=range]{width:120px}
.gx .val{display:inline-block;min-width:3.2em;font-weight:600}
.gx .row{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
.gx svg text{font-size:11px;fill:#333}
.gx .note{font-size:13px;margin:4px 0 0 0;min-height:1.3em}
.gx .cellr{cursor:pointer}
"""

_JS = r"""
(function(){
var root=document.getElementById(ROOT_ID);
var D=JSON.parse(root.querySelector('script[type="application/json"]').textContent);
var NS='http://www.w3.org/2000/svg';
var q=function(c){return root.querySelector('.'+c);};
var opSel=q('op'),fIn=q('frac'),wIn=q('wd'),chart=q('chart'),grid=q('grid'),note=q('note');
var pinned=[];
var PH=PHASES;
D.ops.forEach(function(o,i){var e=document.createElement('option');e.value=i;
  e.textContent=o.formula;opSel.appendChild(e);});
fIn.max=D.fracs.length-1;wIn.max=D.wds.length-1;
var st={op:D.start[0],f:D.start[1],w:D.start[2]};
function idx(o,f,w){return (o*D.fracs.length+f)*D.wds.length+w;}
function el(tag,attrs,parent,text){var e=document.createElementNS(NS,tag);
  for(var k in attrs){e.setAttribute(k,attrs[k]);} if(text!==undefined){e.textContent=text;}
  if(parent){parent.appendChild(e);} return e;}
function pct(x){return Math.round(x*100)+'%';}
var W=520,H=280,L=46,R=10,T=12,B=36;
var lx0=0,lx1=Math.log10(Math.max(D.steps,10));
function X(s){return L+(Math.log10(Math.max(s,1))-lx0)/(lx1-lx0)*(W-L-R);}
function Y(a){return T+(1-a/1000)*(H-T-B);}
function path(c,key){var d='';for(var i=0;i<c.s.length;i++){
  d+=(i?'L':'M')+X(c.s[i]).toFixed(1)+','+Y(c[key][i]).toFixed(1);}return d;}
function label(o,f,w){return D.ops[o].name+', '+pct(D.fracs[f])+' train, wd '+D.wds[w];}
function drawChart(){
  while(chart.firstChild){chart.removeChild(chart.firstChild);}
  el('rect',{x:0,y:0,width:W,height:H,fill:'#fff'},chart);
  for(var a=0;a<=1000;a+=250){el('line',{x1:L,x2:W-R,y1:Y(a),y2:Y(a),stroke:'#e5e5e5'},chart);
    el('text',{x:L-6,y:Y(a)+4,'text-anchor':'end'},chart,pct(a/1000));}
  for(var k=0;k<=Math.floor(lx1);k++){var s=Math.pow(10,k);
    el('line',{x1:X(s),x2:X(s),y1:T,y2:H-B,stroke:'#e5e5e5'},chart);
    el('text',{x:X(s),y:H-B+15,'text-anchor':'middle'},chart,s>=1000?(s/1000)+'k':String(s));}
  el('text',{x:(L+W-R)/2,y:H-4,'text-anchor':'middle'},chart,'optimisation step (log scale)');
  el('text',{x:12,y:(T+H-B)/2,'text-anchor':'middle',transform:'rotate(-90 12 '+(T+H-B)/2+')'},chart,'accuracy');
  pinned.forEach(function(p,j){var c=D.cells[p.i];if(!c){return;}
    el('path',{d:path(c,'v'),fill:'none',stroke:'#888','stroke-width':1.5,'stroke-dasharray':'5 3',
      opacity:0.8,'class':'pinned'},chart);
    var n=c.s.length-1;
    el('text',{x:Math.min(X(c.s[n])+3,W-R-4),y:Y(c.v[n])-4-12*j,'text-anchor':'end',style:'fill:#666'},
      chart,p.label);});
  var i=idx(st.op,st.f,st.w),c=D.cells[i];
  if(!c){note.textContent='No stored run for '+label(st.op,st.f,st.w)+'.';return;}
  [['m','#1f77b4'],['g','#d62728']].forEach(function(mk){var s=c[mk[0]];if(s===null){return;}
    el('line',{x1:X(s),x2:X(s),y1:T,y2:H-B,stroke:mk[1],'stroke-dasharray':'4 3',opacity:0.7},chart);});
  el('path',{d:path(c,'t'),fill:'none',stroke:'#1f77b4','stroke-width':2,'class':'train'},chart);
  el('path',{d:path(c,'v'),fill:'none',stroke:'#d62728','stroke-width':2,'class':'val'},chart);
  el('text',{x:L+8,y:T+14,style:'fill:#1f77b4'},chart,'train');
  el('text',{x:L+8,y:T+28,style:'fill:#d62728'},chart,'validation');
  var n=c.s.length-1,txt=label(st.op,st.f,st.w)+': ';
  if(c.m===null){txt+='never memorised its training set within '+c.b.toLocaleString('en')+' steps.';}
  else if(c.g===null){txt+='memorised by step '+c.m.toLocaleString('en')+', never generalised (validation '+
    pct(c.v[n]/1000)+' at step '+c.s[n].toLocaleString('en')+').';}
  else{txt+='memorised by step '+c.m.toLocaleString('en')+', generalised at step '+c.g.toLocaleString('en')+
    ' ('+c.ph+').';}
  note.textContent=txt;
  root.setAttribute('data-selected',D.ops[st.op].name+'|'+D.fracs[st.f]+'|'+D.wds[st.w]);
}
function drawGrid(){
  while(grid.firstChild){grid.removeChild(grid.firstChild);}
  var cw=34,ch=26,gl=46,gt=30,nf=D.fracs.length,nw=D.wds.length;
  grid.setAttribute('width',Math.max(gl+nf*cw+6,224));grid.setAttribute('height',gt+nw*ch+58);
  el('text',{x:gl+nf*cw/2,y:11,'text-anchor':'middle'},grid,'train fraction');
  D.fracs.forEach(function(f,a){el('text',{x:gl+a*cw+cw/2,y:gt-6,'text-anchor':'middle'},grid,pct(f));});
  el('text',{x:10,y:gt+nw*ch/2,'text-anchor':'middle',transform:'rotate(-90 10 '+(gt+nw*ch/2)+')'},grid,'weight decay');
  D.wds.forEach(function(w,b){var r=nw-1-b;
    el('text',{x:gl-5,y:gt+r*ch+ch/2+4,'text-anchor':'end'},grid,String(w));
    D.fracs.forEach(function(f,a){var c=D.cells[idx(st.op,a,b)];
      var g=el('g',{'class':'cellr'},grid);
      el('rect',{x:gl+a*cw+1,y:gt+r*ch+1,width:cw-2,height:ch-2,fill:c?PH[c.ph]:'#fff',
        stroke:(a===st.f&&b===st.w)?'#000':'none','stroke-width':2.5},g);
      el('text',{x:gl+a*cw+cw/2,y:gt+r*ch+ch/2+4,'text-anchor':'middle',style:'fill:#fff'},g,
        c&&c.g!==null?(c.g>=1000?(c.g/1000).toFixed(1)+'k':String(c.g)):'');
      el('title',{},g,label(st.op,a,b)+(c?': '+c.ph:''));
      g.addEventListener('click',function(){st.f=a;st.w=b;fIn.value=a;wIn.value=b;update();});});});
  var ly=gt+nw*ch+14;
  Object.keys(PH).forEach(function(k,j){var x=4+(j%2)*110,y=ly+Math.floor(j/2)*16;
    el('rect',{x:x,y:y-9,width:10,height:10,fill:PH[k]},grid);el('text',{x:x+14,y:y},grid,k);});
}
function update(){
  q('fval').textContent=pct(D.fracs[st.f]);q('wval').textContent=String(D.wds[st.w]);
  drawChart();drawGrid();}
opSel.addEventListener('change',function(){st.op=+opSel.value;update();});
fIn.addEventListener('input',function(){st.f=+fIn.value;update();});
wIn.addEventListener('input',function(){st.w=+wIn.value;update();});
q('pin').addEventListener('click',function(){var i=idx(st.op,st.f,st.w);
  if(pinned.length>=4){pinned.shift();}pinned.push({i:i,label:label(st.op,st.f,st.w)});update();});
q('clear').addEventListener('click',function(){pinned=[];update();});
opSel.value=st.op;fIn.value=st.f;wIn.value=st.w;update();
})();
"""


def explorer_html(runs: Sequence[Run], title: str = "") -> str:
    """Self-contained HTML (data, script, styles; nothing fetched) exploring ``runs``.

    The output depends only on the runs, so a notebook that displays it gives the same
    HTML every time it is run.
    """
    data = json.dumps(pack(runs), separators=(",", ":"), sort_keys=True)
    root_id = "gx-" + hashlib.sha256(data.encode()).hexdigest()[:10]
    d = json.loads(data)
    caption = title or (f"Stored runs: {len(runs)} ({d['model']}, p = {d['p']}, up to {d['steps']:,} steps). "
                        "Pick an operation, a train fraction and a weight decay; click a cell of the grid to "
                        "jump to it. <i>Keep</i> leaves the validation curve on the chart for comparison.")
    js = _JS.replace("ROOT_ID", json.dumps(root_id)).replace("PHASES", json.dumps(PHASE_COLORS))
    safe_data = data.replace("</", "<\\/")  # the JSON may not close its own script tag
    return (
        f'<div class="gx" id="{root_id}">\n<style>{_CSS.strip()}</style>\n'
        f'<div class="ctl"><label>operation <select class="op" aria-label="operation"></select></label>\n'
        f'<label>train fraction <input class="frac" type="range" min="0" max="0" step="1" '
        f'aria-label="train fraction"><span class="val fval"></span></label>\n'
        f'<label>weight decay <input class="wd" type="range" min="0" max="0" step="1" '
        f'aria-label="weight decay"><span class="val wval"></span></label>\n'
        f'<button class="pin" type="button">Keep</button><button class="clear" type="button">Clear</button></div>\n'
        f'<div class="row"><svg class="chart" width="520" height="280" viewBox="0 0 520 280" role="img" '
        f'aria-label="train and validation accuracy against step"></svg>\n'
        f'<svg class="grid" width="220" height="240" role="img" aria-label="phase of each stored run"></svg></div>\n'
        f'<p class="note"></p>\n<p class="note" style="color:#555">{caption} '
        f'Grid colour: the run\'s phase; number: the step at which validation accuracy reached 99%.</p>\n'
        f'<noscript>This explorer needs JavaScript.</noscript>\n'
        f'<script type="application/json">{safe_data}</script>\n'
        f'<script>{_squeeze(js)}</script>\n</div>'
    )


def _squeeze(js: str) -> str:
    """Drop leading indentation and blank lines (the script is small; no real minifier needed)."""
    return "\n".join(line.strip() for line in js.strip().splitlines() if line.strip())


def write_html(runs: Sequence[Run], path: str | Path) -> Path:
    """A standalone page around `explorer_html` (for opening in a browser or testing)."""
    path = Path(path)
    body = explorer_html(runs)
    path.write_text(f'<!doctype html>\n<html><head><meta charset="utf-8"><title>Grokking explorer</title></head>'
                    f"<body>\n{body}\n</body></html>\n", encoding="utf-8")
    return path


__all__ = ["downsample", "explorer_html", "load_runs", "pack", "sweep_configs", "write_html"]
