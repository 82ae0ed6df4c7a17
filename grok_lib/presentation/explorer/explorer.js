// The explorer's script: one function, called with the id of the explorer's root element.
// It reads two JSON blocks inside that element: the runs (script.gx-data, see page.pack) and
// the colours (script.gx-palette, from style.page_palette), so no colour is typed here.
// Whole-line comments like these are dropped when the script is inlined into the page.
(function(rootId){
var root=document.getElementById(rootId);
var D=JSON.parse(root.querySelector('script.gx-data').textContent);
var C=JSON.parse(root.querySelector('script.gx-palette').textContent);
var NS='http://www.w3.org/2000/svg';
var q=function(c){return root.querySelector('.'+c);};
var opSel=q('op'),fIn=q('frac'),wIn=q('wd'),chart=q('chart'),grid=q('grid'),note=q('note');
var pinned=[];
var PH=C.phases;
D.ops.forEach(function(o,i){var e=document.createElement('option');e.value=i;
  e.textContent=o.formula;opSel.appendChild(e);});
fIn.max=D.fracs.length-1;wIn.max=D.wds.length-1;
var st={op:D.start[0],f:D.start[1],w:D.start[2]};
function idx(o,f,w){return (o*D.fracs.length+f)*D.wds.length+w;}
function el(tag,attrs,parent,text){var e=document.createElementNS(NS,tag);
  for(var k in attrs){e.setAttribute(k,attrs[k]);} if(text!==undefined){e.textContent=text;}
  if(parent){parent.appendChild(e);} return e;}
function pct(x){return Math.round(x*100)+'%';}
// the chart: accuracy (in thousandths) against log step
var W=520,H=280,L=46,R=10,T=12,B=36;
var lx0=0,lx1=Math.log10(Math.max(D.steps,10));
function X(s){return L+(Math.log10(Math.max(s,1))-lx0)/(lx1-lx0)*(W-L-R);}
function Y(a){return T+(1-a/1000)*(H-T-B);}
function path(c,key){var d='';for(var i=0;i<c.s.length;i++){
  d+=(i?'L':'M')+X(c.s[i]).toFixed(1)+','+Y(c[key][i]).toFixed(1);}return d;}
function label(o,f,w){return D.ops[o].name+', '+pct(D.fracs[f])+' train, wd '+D.wds[w];}
function drawChart(){
  while(chart.firstChild){chart.removeChild(chart.firstChild);}
  el('rect',{x:0,y:0,width:W,height:H,fill:C.paper},chart);
  for(var a=0;a<=1000;a+=250){el('line',{x1:L,x2:W-R,y1:Y(a),y2:Y(a),stroke:C.rule},chart);
    el('text',{x:L-6,y:Y(a)+4,'text-anchor':'end'},chart,pct(a/1000));}
  for(var k=0;k<=Math.floor(lx1);k++){var s=Math.pow(10,k);
    el('line',{x1:X(s),x2:X(s),y1:T,y2:H-B,stroke:C.rule},chart);
    el('text',{x:X(s),y:H-B+15,'text-anchor':'middle'},chart,s>=1000?(s/1000)+'k':String(s));}
  el('text',{x:(L+W-R)/2,y:H-4,'text-anchor':'middle'},chart,'optimisation step (log scale)');
  el('text',{x:12,y:(T+H-B)/2,'text-anchor':'middle',transform:'rotate(-90 12 '+(T+H-B)/2+')'},chart,'accuracy');
  pinned.forEach(function(p,j){var c=D.cells[p.i];if(!c){return;}
    el('path',{d:path(c,'v'),fill:'none',stroke:C.pinned,'stroke-width':1.5,'stroke-dasharray':'5 3',
      opacity:0.8,'class':'pinned'},chart);
    var n=c.s.length-1;
    el('text',{x:Math.min(X(c.s[n])+3,W-R-4),y:Y(c.v[n])-4-12*j,'text-anchor':'end',style:'fill:'+C.pinned_label},
      chart,p.label);});
  var i=idx(st.op,st.f,st.w),c=D.cells[i];
  if(!c){note.textContent='No stored run for '+label(st.op,st.f,st.w)+'.';return;}
  [['m',C.train],['g',C.val]].forEach(function(mk){var s=c[mk[0]];if(s===null){return;}
    el('line',{x1:X(s),x2:X(s),y1:T,y2:H-B,stroke:mk[1],'stroke-dasharray':'4 3',opacity:0.7},chart);});
  el('path',{d:path(c,'t'),fill:'none',stroke:C.train,'stroke-width':2,'class':'train'},chart);
  el('path',{d:path(c,'v'),fill:'none',stroke:C.val,'stroke-width':2,'class':'val'},chart);
  el('text',{x:L+8,y:T+14,style:'fill:'+C.train},chart,'train');
  el('text',{x:L+8,y:T+28,style:'fill:'+C.val},chart,'validation');
  var n=c.s.length-1,txt=label(st.op,st.f,st.w)+': ';
  if(c.m===null){txt+='never memorised its training set within '+c.b.toLocaleString('en')+' steps.';}
  else if(c.g===null){txt+='memorised by step '+c.m.toLocaleString('en')+', never generalised (validation '+
    pct(c.v[n]/1000)+' at step '+c.s[n].toLocaleString('en')+').';}
  else{txt+='memorised by step '+c.m.toLocaleString('en')+', generalised at step '+c.g.toLocaleString('en')+
    ' ('+c.ph+').';}
  note.textContent=txt;
  root.setAttribute('data-selected',D.ops[st.op].name+'|'+D.fracs[st.f]+'|'+D.wds[st.w]);
}
// the grid: one cell per (train fraction, weight decay) of the chosen task, coloured by phase
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
      el('rect',{x:gl+a*cw+1,y:gt+r*ch+1,width:cw-2,height:ch-2,fill:c?PH[c.ph]:C.paper,
        stroke:(a===st.f&&b===st.w)?C.selected:'none','stroke-width':2.5},g);
      el('text',{x:gl+a*cw+cw/2,y:gt+r*ch+ch/2+4,'text-anchor':'middle',style:'fill:'+C.on_phase},g,
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
})
