// dumps the last nodes of an onnx graph (quick protobuf walk)
const fs=require('fs');const buf=fs.readFileSync(process.argv[2]);
function rd(b,s,e){let p=s;const v=()=>{let r=0,sh=0;for(;;){const x=b[p++];r+=(x&127)*2**sh;if(x<128)return r;sh+=7}};const out=[];while(p<e){const k=v(),f=Math.floor(k/8),w=k&7;if(w===0){out.push([f,v()])}else if(w===2){const n=v();out.push([f,[p,p+n]]);p+=n}else if(w===1)p+=8;else if(w===5)p+=4;}return out}
const str=([s,e])=>buf.subarray(s,e).toString();
const g=rd(buf,0,buf.length).find(([f])=>f===7)[1];
const nodes=rd(buf,g[0],g[1]).filter(([f])=>f===1).map(([,r])=>{const fl=rd(buf,r[0],r[1]);return {op:str(fl.find(x=>x[0]===4)[1]),ins:fl.filter(x=>x[0]===1).map(x=>str(x[1])),outs:fl.filter(x=>x[0]===2).map(x=>str(x[1]))}});
for(const n of nodes.slice(-+(process.argv[3]||10)))console.log(n.op,n.ins.join(','),'->',n.outs.join(','));
