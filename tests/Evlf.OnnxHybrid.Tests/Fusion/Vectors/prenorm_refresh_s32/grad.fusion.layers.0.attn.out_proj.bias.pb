B'grad.fusion.layers.0.attn.out_proj.biasJ€Û{ÙÒx?ÈÖû÷U{?(§‡äæ±…?½ªşYC‚ª¿%Œ=Åã™¿˜„ÊPt¿ĞoœËQ`š?@îòs?ZÀ ,®–¿¤[VŠ§
’?wn™ÿ]¡¿Ñ‘îÉŞÕƒ?áU…Å
u?BßF˜/n¿dêªÅÅÖ^¿4C4p¿