import Coordinator

/// The frame of every dashboard page: one HTML document with its CSS and script inline (nothing
/// loads from anywhere else), the page's fragments in order, and an event stream that replaces
/// a fragment whenever the server renders it differently. The server renders all HTML; the
/// script only swaps fragments, keeps the token, and posts actions.
enum PageShell {
    struct Fragment: Sendable, Equatable {
        /// The `id` of the fragment's outermost element, which the script replaces whole.
        var id: String
        var html: String
    }

    static func document(title: String, eventsURL: String, header: String, fragments: [Fragment], layout: (String) -> String) -> String {
        var body = ""
        for fragment in fragments { body += fragment.html + "\n" }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title))</title><style>\(css)</style></head>
            <body data-events="\(HTML.escape(eventsURL))">
            <header><a class="brand" href="/">StyleFarm</a> \(header)
            <span class="token"><label>token <input id="token" type="password" autocomplete="off" placeholder="for actions"></label></span>
            <span id="live" class="live off" title="live updates">●</span></header>
            <div id="notice" role="status"></div>
            <main>\(layout(body))</main>
            <script>\(script)</script>
            </body></html>
            """
    }

    static let css = """
        :root{--fg:#1d2330;--muted:#667085;--line:#d9dde5;--bg:#f7f8fa;--card:#fff;--ok:#1a7f37;--run:#0969da;--bad:#cf222e;--wait:#9a6700}
        *{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
        header{display:flex;gap:1em;align-items:center;padding:.6em 1.2em;background:#1d2330;color:#fff}
        header a{color:#fff;text-decoration:none}.brand{font-weight:700}.token{margin-left:auto}
        header input{width:12em}.live.on{color:#3fb950}.live.off{color:#888}
        main{padding:1em 1.2em;max-width:1400px}h1{font-size:1.3em;margin:.2em 0}h2{font-size:1.05em;margin:1.2em 0 .4em}
        table{border-collapse:collapse;background:var(--card);width:100%}th,td{padding:.3em .6em;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
        th{color:var(--muted);font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
        .state{font-weight:600}.s-succeeded,.s-done{color:var(--ok)}.s-running,.s-leased,.s-finishing{color:var(--run)}
        .s-failed{color:var(--bad)}.s-cancelled{color:var(--muted)}.s-queued,.s-ready{color:var(--wait)}
        .bar{display:inline-block;width:8em;height:.7em;background:var(--line);border-radius:3px;overflow:hidden;vertical-align:middle}
        .bar i{display:block;height:100%;background:var(--ok)}
        .counts span{display:inline-block;margin-right:1.2em}.muted{color:var(--muted)}
        .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:.8em}
        .point{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.5em}
        .point.leased{border-color:var(--run)}.point.failed{border-color:var(--bad)}
        .thumb{width:100%;aspect-ratio:1;background:#eef0f4;display:flex;align-items:center;justify-content:center;overflow:hidden}
        .thumb a{display:block;width:100%;height:100%}.thumb img{width:100%;height:100%;object-fit:contain}.point dl{display:grid;grid-template-columns:auto 1fr;gap:0 .6em;margin:.4em 0 0}
        .point dt{color:var(--muted)}.point dd{margin:0;font-variant-numeric:tabular-nums}
        .picture{position:relative;max-width:900px;background:#eef0f4}.picture>img.coarse{position:absolute;inset:0;width:100%;height:100%;opacity:.55}
        .tile{position:absolute;overflow:hidden;outline:1px solid rgba(255,255,255,.35)}.tile img{position:absolute}
        .tile.leased{outline:2px solid var(--run);z-index:1}.tile.failed{outline:2px solid var(--bad)}
        .bands{max-width:900px}.band{position:relative;background:#eef0f4;border-bottom:1px solid #fff}.band img{display:block;width:100%}
        .band .caption{position:absolute;left:.4em;top:.2em;background:rgba(255,255,255,.8);padding:0 .3em}
        .curves{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:.8em}
        .curves figure{margin:0;background:var(--card);border:1px solid var(--line);padding:.4em}
        .plot svg,.curves svg{max-width:100%;height:auto}
        form.inline{display:inline-flex;gap:.4em;align-items:center;margin-right:1em}
        button{font:inherit;padding:.15em .7em;cursor:pointer}#notice{padding:0 1.2em}#notice.show{padding:.5em 1.2em;background:#fff8c5}
        #notice.error{background:#ffebe9}
        """

    /// Swaps fragments from the event stream, keeps the token (localStorage for actions, a
    /// same-site cookie so that pages and images can be read where reading needs it), and posts
    /// actions with it. No framework, no build step.
    static let script = """
        (function(){
        const tokenField=document.getElementById('token');
        const saved=localStorage.getItem('stylefarmToken')||'';tokenField.value=saved;
        tokenField.addEventListener('change',()=>{const t=tokenField.value.trim();localStorage.setItem('stylefarmToken',t);
          document.cookie='stylefarm_token='+encodeURIComponent(t)+'; path=/; SameSite=Strict';});
        const live=document.getElementById('live');
        const notice=(text,error)=>{const n=document.getElementById('notice');n.textContent=text;n.className='show'+(error?' error':'');};
        function connect(){
          const events=new EventSource(document.body.dataset.events);
          events.onopen=()=>{live.className='live on';};
          events.onerror=()=>{live.className='live off';};
          events.addEventListener('fragments',e=>{
            const fragments=JSON.parse(e.data);
            for(const id in fragments){const el=document.getElementById(id);if(el){el.outerHTML=fragments[id];}}
            document.dispatchEvent(new CustomEvent('stylefarm:update',{detail:Object.keys(fragments)}));
          });
        }
        connect();
        document.addEventListener('submit',async e=>{
          const form=e.target;if(!form.dataset.action)return;e.preventDefault();
          if(form.dataset.confirm&&!confirm(form.dataset.confirm))return;
          const body={};
          for(const input of form.querySelectorAll('input[name],select[name]')){
            if(input.type==='checkbox')body[input.name]=input.checked;
            else if(input.type==='number')body[input.name]=Number(input.value);
            else body[input.name]=input.value;}
          for(const k in form.dataset){if(k.startsWith('set')){const name=k.slice(3).toLowerCase();body[name]=JSON.parse(form.dataset[k]);}}
          const token=(localStorage.getItem('stylefarmToken')||'').trim();
          try{
            const r=await fetch(form.dataset.action,{method:'POST',headers:{'Content-Type':'application/json',
              ...(token?{'Authorization':'Bearer '+token}:{})},body:JSON.stringify(body)});
            const reply=await r.json().catch(()=>({}));
            if(r.ok){notice(reply.message||'done',false);}else{notice('refused ('+r.status+'): '+(reply.error||r.statusText),true);}
          }catch(err){notice('failed: '+err,true);}
        });
        })();
        """
}

/// The pages' escaping: the job folders' (`HTMLText`, module Coordinator), for any string kind.
enum HTML {
    static func escape(_ text: some StringProtocol) -> String { HTMLText.escape(String(text)) }

    /// A job id, task key or relative file path as a URL path, each segment percent-encoded.
    static func urlSegment(_ text: some StringProtocol) -> String { HTMLText.link(String(text)) }
}
