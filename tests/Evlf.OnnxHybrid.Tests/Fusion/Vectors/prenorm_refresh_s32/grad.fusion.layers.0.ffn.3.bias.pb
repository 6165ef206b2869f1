Bgrad.fusion.layers.0.ffn.3.biasJ€n¬‡¾PÉ‚?[ËŽôy?$ÕžÈˆ?Aµ­Æò§¿Žž¬?uÕ™¿i×²u®y¿5Tœx>˜?ÊãRs?A¼¼SE§–¿M´«FÒY“?U\Ó—g¡¿2:Á ²é€?v¡0,³l?óJš.î¡u¿xöÁ0`p¿G
 'x]~¿