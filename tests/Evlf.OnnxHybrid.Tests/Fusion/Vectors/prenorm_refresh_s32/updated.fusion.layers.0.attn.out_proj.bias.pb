B*updated.fusion.layers.0.attn.out_proj.biasJ€eñµaúšu?‚È†å/£¿t¸1ØNör?>Ø·‚S›?÷†”k˜¡¿
ºoÌ4Et?ÆjZ§2Õ­?†~¨<üª¿ŠFwGp¨¿Å]‡K²s?#Y³P`¡?{ïôM¬?Ê_¨}Ò
”¿D£û†ãS¿§òD&tÉ›?Ýâ7XñU¬¿