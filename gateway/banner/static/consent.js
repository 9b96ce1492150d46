/**
 * consent-gateway banner: one <script> first in <head>, no dependencies, no build step.
 * The gateway serves it as /consent.js with the site's config in place of the placeholder
 * below (built by gateway/banner/config.py). CSP-clean: no eval, no inline styles, text only
 * through textContent; all state is classes on one root element, styled by /consent.css.
 *
 * Minified by hand, on purpose: tests/banner/test_size.py holds gzip(JS) + gzip(CSS) to
 * 7,168 bytes with both languages, every shipped vendor and the embed placeholders. The
 * gateway drops whole-line comments and indentation when serving, so these comments cost
 * nothing: they explain the short names. No code line may start with "//", "/*" or "*".
 *
 * Names. Values: C config, V vendors by id, O optional categories, S the consent state (null:
 * no current choice), G GPC on, L language, P preferences layer shown, Op dialog open.
 * Functions: A(x) whether category or vendor id x may run now, K(x) the category of vendor x
 * (else x), F(c) the vendors of category c, h(tag, class, text, attrs) an element, t(key) a
 * text, Q(selector, root) querySelectorAll, I(x) the switch of category or vendor x.
 * Elements: R root, B dialog box, T title, Ds description, Mg message, No announcer, Th the
 * third button (Customise / Save), Ls the preferences list (built when first opened).
 *
 * The preferences layer's texts and the vendors' descriptions and links are not embedded:
 * they come from GET /consent/details?lang=L the first time a visitor opens that layer.
 *
 * @typedef {{id: string, name: string, category: string, cookies: string[],
 *   policyUrl?: string, terms?: string, notice?: Record<string, string>,
 *   description?: string}} Vendor  cookies may hold one "*" wildcard; a notice marks its
 *   policy and terms links as [text]; description arrives with the details
 * @typedef {object} BannerConfig
 * @property {number} revision  policy revision; a choice made under another one is asked again
 * @property {string} endpoint  gateway base URL, no trailing slash
 * @property {string} cssUrl  the stylesheet this script links
 * @property {string} cookieName  the signed consent cookie (read here, verified by the server)
 * @property {string} policyUrl  privacy policy; "" shows no link
 * @property {string[]} categories  in display order, "necessary" first and always on
 * @property {Record<string, [string, string]>} vendors  id → [name, category]; "necessary"
 *   ones are disclosed only: no switch, never blocked
 * @property {Record<string, Record<string, string>>} texts  language → key → first-layer text
 * @property {Record<string, string[]>} consentMode  category → Google Consent Mode signals
 * @property {boolean} floatingButton  a button to reopen the preferences after a choice
 * @property {boolean} reload  reload the page after a withdrawal or a narrower choice
 *
 * @typedef {{id: string, revision: number, granted: string[], denied: string[],
 *   chosen_at: string, gpc: boolean, refused_vendors: string[]}} ConsentState  the shape of
 *   GET/POST /consent "consent"; refused_vendors: vendors refused inside granted categories
 */
((w,d)=>{
/** @type {BannerConfig} */
const C=/*@config*/null;
if(!C||w.consentGateway)return;
const N="necessary",M="marketing",G=navigator.globalPrivacyControl===true,O=C.categories.filter(c=>c!=N),V={};
for(const id in C.vendors)V[id]={id,name:C.vendors[id][0],category:C.vendors[id][1]};
const VS=Object.values(V);
const K=x=>V[x]?V[x].category:x,F=c=>VS.filter(v=>v.category==c),Q=(s,r=d)=>r.querySelectorAll(s);
// Google Consent Mode v2: everything denied but security, before any tag can run. It is
// page-wide, so a category counts as granted only with none of its vendors refused (A).
const dl=w.dataLayer=w.dataLayer||[],gt=w.gtag||(w.gtag=function(){dl.push(arguments)});
const sg=on=>{
const s={};
for(const x of["ad_storage","ad_user_data","ad_personalization","analytics_storage","functionality_storage","personalization_storage"])s[x]="denied";
for(const c in C.consentMode)for(const x of C.consentMode[c])if(on(c))s[x]="granted";
s.security_storage="granted";
return s};
gt("consent","default",sg(()=>0));
/** @type {ConsentState | null} */
let S=null,R,B,T,Ds,Mg,No,Th,Ls,X,bk,P,Op,bz;
const get=()=>S&&JSON.parse(JSON.stringify(S));
// A vendor: its category granted and it not refused. A category: granted with none of its
// vendors refused, so an element or a site's check that names only a category fails closed
// when the visitor refused some vendor in it (it may be that vendor's).
const A=x=>K(x)==N||!!S&&S.granted.includes(K(x))&&(V[x]?!S.refused_vendors.includes(x):F(x).every(v=>A(v.id)));
const Y=s=>{
// GPC is an opt-out of marketing that no earlier choice overrides.
S=s&&{...s,granted:s.granted.filter(c=>!(G&&c==M)),refused_vendors:s.refused_vendors||[]};
if(S)S.denied=O.filter(c=>!S.granted.includes(c));
gt("consent","update",sg(A));
sc(d);
R&&R.classList.toggle("cg--has",!!S);
// Sites listen to document's consent:change (detail: the state, as get() returns it).
d.dispatchEvent(new CustomEvent("consent:change",{detail:get()}))};

// Blocked elements: inert until their vendor (data-vendor, when declared) or else their
// category (data-consent) is allowed, then activated exactly once. A blocked <iframe> or
// <div> embed shows a placeholder meanwhile; "Load once" (o) activates just that one.
const Z='script[type="text/plain"][data-consent],[data-consent][data-src]';
const W=e=>V[e.dataset.vendor]?e.dataset.vendor:e.dataset.consent;
const nm=x=>V[x]?V[x].name:t("category_"+x);
const ac=(e,o)=>{
const ds=e.dataset,src=ds.src||"",g=e.tagName;
if(!e.isConnected)return;
if(!o&&!A(W(e)))return e.cgp||g!="IFRAME"&&g!="DIV"||ho(e);
e.removeAttribute("data-src");
if(g=="DIV")e.replaceChildren(h("iframe","cg-if","",{src,title:ds.title||nm(W(e))}));
// An <iframe> is replaced by a copy that has its src from the start: setting src on one the
// parser is still attaching can lose to its first about:blank load.
else if(g=="IFRAME")e.replaceWith(Object.assign(e.cloneNode(),{src}));
else if(g!="SCRIPT")e.setAttribute("src",src);
else{
const s=d.createElement("script");
for(const a of e.attributes)a.name!="type"&&s.setAttribute(a.name,a.value);
s.type=ds.type||"text/javascript";
s.nonce=e.nonce||"";
if(src)s.src=src;
if(s.src)s.async=e.hasAttribute("async");else s.text=e.textContent;
e.replaceWith(s)}};
const sc=n=>{n.matches&&n.matches(Z)&&ac(n);n.querySelectorAll&&Q(Z,n).forEach(e=>ac(e))};
new MutationObserver(r=>{for(const m of r)m.addedNodes.forEach(sc)}).observe(d.documentElement,{childList:true,subtree:true});
// The placeholder keeps the embed's size: an <iframe> gets it inside its own still-empty
// document (nothing on the page moves), a <div> as its child (size the div like the embed).
// "Always allow" grants this vendor (or category) only, on top of what is allowed now.
const ho=e=>{
const f=e.tagName=="IFRAME",x=W(e),fill=()=>{
const doc=f?e.contentDocument:d;
if(!doc||!e.dataset.src||Q(".cg-e",f?doc:e)[0])return;
const n=nm(x),b=h("div","cg cg-e","",{lang:L,role:"group","aria-label":n}),r=h("div","cg-b");
bt(r,t("load_once"),()=>ac(e,1));
G&&K(x)==M||bt(r,t("always_allow").replace("%s",n),()=>ch(pk(y=>y==x||K(y)==x||A(y))));
b.append(h("p","cg-t",n),h("p","cg-x",t("embed").replace("%s",n)),r);
if(f){doc.head.append(h("link","","",{rel:"stylesheet",href:C.cssUrl}));doc.body.className="cg-eb"}
(f?doc.body:e).append(b)};
e.cgp=1;
// The empty document an <iframe> starts with may be replaced when it "loads": fill again.
f&&e.addEventListener("load",fill);
// Filled once the page is ready (rd); a category embed (no declared vendor) is named by its
// category, a text of the details.
(V[x]?rd:De()).then(fill,()=>{})};

const ap=(method,body,path="")=>fetch(C.endpoint+"/consent"+path,{method,credentials:"include",headers:body?{"Content-Type":"application/json"}:{},body:body&&JSON.stringify(body)}).then(r=>{if(!r.ok)throw r;return r.json()});
const L=[d.documentElement.lang,...navigator.languages].map(l=>(l||"").toLowerCase().split(/[-_]/)[0]).find(l=>C.texts[l])||"en";
const t=k=>C.texts[L][k]??k;
// The preferences layer's texts and vendor descriptions, fetched once when first needed.
const De=()=>X=X||ap("GET",null,"/details?lang="+L).then(r=>{Object.assign(C.texts[L],r.texts);for(const k in r.vendors)Object.assign(V[k],r.vendors[k])},e=>{X=0;throw e});
const h=(tag,cls,tx,attrs={})=>{
const e=d.createElement(tag);
e.className=cls||"";
e.textContent=tx||"";
for(const k in attrs)e.setAttribute(k,attrs[k]);
return e};
const lk=(tx,href)=>h("a","",tx,{href,target:"_blank"});
const bt=(row,tx,fn,cls="cg-btn")=>{
const b=h("button",cls,tx,{type:"button"});
b.onclick=()=>Promise.resolve(fn()).catch(()=>{});
row.append(b);
return b};
// A vendor's notice (reCAPTCHA's when its badge is hidden) in the banner's language, as
// text; into `el` with its [marked] parts as links to the vendor's policy, then its terms.
// Notices come with the details, so this waits for them.
const nt=(id,el)=>De().then(()=>{
const v=V[id],p=v&&v.notice?(v.notice[L]||v.notice.en).split(/\[(.*?)\]/):[];
el&&el.replaceChildren(...p.map((s,i)=>i%2?lk(s,i>1?v.terms:v.policyUrl):s));
return p.join("")});

const bu=()=>{
R=h("div","cg","",{lang:L});
B=h("div","cg-d","",{role:"dialog","aria-modal":"true",tabindex:"-1","aria-labelledby":"cg-t","aria-describedby":"cg-x"});
T=h("h2","cg-t","",{id:"cg-t"});
Ds=h("span");
const p=h("p","cg-x","",{id:"cg-x"}),row=h("div","cg-b"),o=h("div","cg-o");
p.append(Ds);
const pu=C.texts[L].policy_url||C.policyUrl;pu&&p.append(" ",h("a","",t("policy_link"),{href:pu}));
bt(B,"×",hd,"cg-c").setAttribute("aria-label",t("close"));
B.append(T,p);
G&&B.append(h("p","cg-g",t("gpc_notice")));
B.append(Ls=h("div","cg-p"),Mg=h("p","cg-m","",{role:"status"}),row);
bt(row,t("accept_all"),()=>API.accept());
bt(row,t("reject_all"),API.reject);
Th=bt(row,"",()=>P?ch(pk(x=>I(x)?.checked)):l2());
B.onkeydown=ky;
// The category switch sets all its vendors; vendor switches make it on, off or mixed.
B.onchange=e=>{
const i=e.target;
V[i.value]||F(i.value).forEach(v=>I(v.id).checked=i.checked);
sy()};
o.append(B);
R.append(o,No=h("div","cg-a","",{role:"status"}));
C.floatingButton&&bt(R,"",l2,"cg-f").setAttribute("aria-label",t("settings"));
R.classList.toggle("cg--has",!!S);
d.body.append(R)};
const I=x=>B.querySelector("#cg-i-"+x);
// A label with its switch: a category's, or an optional vendor's.
const ln=(label,x)=>{
const id="cg-i-"+x,e=h("div","cg-h"),i=h("input","cg-s","",{type:"checkbox",id,value:x});
i.disabled=x==N||G&&K(x)==M;
i.checked=x==N;
e.append(h("label","cg-l",label,{for:id}));
x==N&&e.append(h("span","cg-on",t("always_on")));
e.append(i);
return e};
const cy=c=>{
const r=h("div","cg-r"),vs=F(c),m=h("details","cg-v"),u=h("ul");
r.append(ln(t("category_"+c),c),h("p","cg-cd",t("category_"+c+"_description")));
m.append(h("summary","",t("vendors")+" ("+vs.length+")"),u);
for(const v of vs){
const li=h("li"),k=h("span","cg-k");
li.append(c==N?h("b","cg-l",v.name):ln(v.name,v.id));
v.description&&li.append(h("span","cg-k",v.description));
v.cookies.length&&li.append(h("span","cg-k",t("cookies")+": "+v.cookies.join(", ")));
k.append(lk(t("policy_link"),v.policyUrl));
v.terms&&k.append(" · ",lk(t("terms"),v.terms));
li.append(k);
u.append(li)}
vs.length&&r.append(m);
return r};
// Each category switch: on with all its vendors on, mixed with some (then unchecked, so that
// a click turns them all on), off with none.
const sy=()=>O.map(c=>{
const a=F(c).map(v=>I(v.id).checked),n=a.filter(Boolean).length;
a[0]!=null&&Object.assign(I(c),{checked:n==a.length,indeterminate:n>0&&n<a.length})});
// The body of POST /consent where ok(x) says which categories and vendors are allowed: a
// category with any vendor allowed is granted, and its other vendors are refused.
const pk=ok=>{
const granted=O.filter(c=>ok(c)||F(c).some(v=>ok(v.id)));
return{granted,refused_vendors:VS.filter(v=>granted.includes(v.category)&&!ok(v.id)).map(v=>v.id)}};

const tx=(e,k)=>e.textContent=t(k);
const op=p=>{
R||bu();
P=p;
R.classList.toggle("cg--p",p);
tx(T,p?"preferences_title":"title");
tx(Ds,p?"preferences_description":"description");
tx(Th,p?"save":"customise");
No.textContent="";
if(p&&!Ls.firstChild){for(const c of C.categories)Ls.append(cy(c));bt(B,t("withdraw"),withdraw,"cg-w")}
for(const i of Q("input:enabled",B))i.checked=A(i.value);
Ls.firstChild&&sy();
if(!Op){bk=d.activeElement;R.classList.add("cg--open");Op=1}
B.focus()};
const l2=()=>De().then(()=>op(1),()=>{op(P);tx(Mg,"error")});
const hd=()=>{
if(!Op)return;
R.classList.remove("cg--open");
Op=0;
Mg.textContent="";
const to=bk&&bk.isConnected&&bk!=d.body?bk:S&&R.querySelector(".cg-f");
to&&to.focus()};
// Focus stays in the dialog; Escape goes back a layer or closes once a choice exists.
const ky=e=>{
if(e.key=="Escape")return S?hd():P&&op(0);
if(e.key!="Tab")return;
const f=[...Q("a[href],button,input:enabled,summary",B)].filter(x=>x.getClientRects().length),a=f[0],z=f[f.length-1],at=d.activeElement;
if(e.shiftKey?at==a||at==B:at==z){e.preventDefault();(e.shiftKey?z:a).focus()}};
d.addEventListener("focusin",e=>Op&&!B.contains(e.target)&&B.focus());
d.addEventListener("click",e=>{if(e.target.closest?.("[data-consent-open]")){e.preventDefault();show()}});

// Expire `names` (the consent cookie, and the cookies of every vendor not allowed now, as
// POST and DELETE /consent list them), host-only and on every parent domain, at path /; then, if something allowed before (`was`) no longer is, reload
// the page (C.reload) so that scripts which already ran stop. A pattern's one "*" stands
// for one or more characters.
const cn=(names,was)=>{
const l=location.hostname.split(".");
for(const c of d.cookie.split("; ")){
const n=c.split("=")[0];
if(names.some(p=>{const[a,z]=p.split("*");return z==null?p==n:n.length>=p.length&&n.startsWith(a)&&n.endsWith(z)}))
for(let i=0;i<l.length;i++)d.cookie=n+"=; Max-Age=0; Path=/"+(i?"; Domain="+l.slice(i-1).join("."):"")}
C.reload&&was.some(x=>!A(x))&&location.reload()};
const nw=()=>O.concat(Object.keys(V)).filter(A);
const ch=async body=>{
if(bz)throw Error("busy");
// GPC: marketing is never granted, so "accept all" becomes every other category.
if(G&&body.action=="accept_all")body={granted:O};
if(G&&body.granted)body={...body,granted:body.granted.filter(c=>c!=M)};
bz=1;
const was=nw();
try{
const r=await ap("POST",{...body,language:L,page:location.pathname});
Y(r.consent);
hd();
No&&tx(No,"saved");
cn(r.delete_cookies||[],was);
return get()
}catch(e){R&&tx(Mg,"error");throw e}
finally{bz=0}};
const withdraw=async()=>{
// The server lists the vendor cookies; without it, those the details named (loaded when the
// preferences layer opened, where the withdraw button is), never a necessary vendor's.
let names=[C.cookieName,...VS.flatMap(v=>v.category!=N&&v.cookies||[])],failed;
const was=nw();
try{names=names.concat((await ap("DELETE")).delete_cookies||[])}catch(e){failed=e}
// Cookies go and tracking stops even if the server could not record the withdrawal.
Y(null);
cn(names,was);
await rd;
await De().catch(()=>{});
op(0);
tx(Mg,failed?"error":"withdrawn");
if(failed)throw failed};

const rd=Promise.all([
new Promise(done=>{const l=h("link","","",{rel:"stylesheet",href:C.cssUrl});l.onload=l.onerror=done;setTimeout(done,3e3);d.head.append(l)}),
new Promise(done=>d.readyState=="loading"?d.addEventListener("DOMContentLoaded",done):done()),
// With GPC the first layer says so, in a text of the details.
G&&De().catch(()=>{})]);
const show=()=>rd.then(()=>S?l2():op(0));
const API=w.consentGateway={
show,
get,
// allowed("analytics") or allowed("youtube"): a category, or a vendor by its rule id.
allowed:A,
// notice("recaptcha"): a promise of that vendor's notice as text, in the banner's language.
notice:id=>nt(id),
accept:cs=>ch(cs?{granted:cs}:{action:"accept_all"}),
reject:()=>ch({action:"reject_all"}),
withdraw};
// The choice in the cookie, if readable and made under the current revision; without
// one (the cookie may be host-only on the gateway), ask the gateway.
let sv=null;
try{
const p=JSON.parse(atob(("; "+d.cookie).split("; "+C.cookieName+"=")[1].split(".")[0].replace(/-/g,"+").replace(/_/g,"/")));
if(p.r===C.revision&&Array.isArray(p.g))Y(sv={id:p.i,revision:p.r,granted:p.g,denied:[],chosen_at:new Date(p.t*1e3).toISOString(),gpc:!!p.p,refused_vendors:p.v||[]})
}catch{}
Promise.all([sv||ap("GET").then(r=>r.consent?.revision===C.revision&&Y(r.consent)).catch(()=>{}),rd]).then(()=>{
// Elements marked data-consent-notice="<vendor id>" show that vendor's notice.
for(const e of Q("[data-consent-notice]"))nt(e.dataset.consentNotice,e).catch(()=>{});
sc(d);
R||bu();
S||op(0)})
})(window,document);
